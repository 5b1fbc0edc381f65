"""What each xdist worker sets up before frameworks load: its share of the cores and its GPU."""

from cwtest.session.workers import assign_gpu, share_cores, visible_gpus, worker_index


def test_worker_index():
    assert worker_index(None) is None
    assert worker_index({"workerid": "gw3", "workercount": 8}) == (3, 8)


def test_cores_are_shared_and_user_settings_kept():
    environ = {"OMP_NUM_THREADS": "7"}
    assert share_cores(2, environ, cores=2) == 1
    assert environ["OMP_NUM_THREADS"] == "7"  # set by the user: kept
    assert environ["TF_NUM_INTRAOP_THREADS"] == environ["MKL_NUM_THREADS"] == "1"
    assert share_cores(4, {}, cores=16) == 4


def test_worker_gets_gpu_index_mod_count_within_visible_devices():
    assigned = []
    for index in range(5):
        environ = {"CUDA_VISIBLE_DEVICES": "4,5,7"}
        assigned.append(assign_gpu(index, environ, probe=lambda: ["0", "1"]))
        assert environ["CUDA_VISIBLE_DEVICES"] == assigned[-1]
    assert assigned == ["4", "5", "7", "4", "5"]


def test_gpus_from_the_driver_when_nothing_is_set():
    environ = {}
    assert visible_gpus(environ, probe=lambda: ["0", "1", "2", "3"]) == ["0", "1", "2", "3"]
    assert assign_gpu(6, environ, probe=lambda: ["0", "1", "2", "3"]) == "2"


def test_no_gpu_leaves_the_environment_alone():
    environ = {}
    assert assign_gpu(1, environ, probe=list) is None
    assert "CUDA_VISIBLE_DEVICES" not in environ
    assert assign_gpu(0, {"CUDA_VISIBLE_DEVICES": ""}, probe=lambda: ["0"]) is None  # hidden on purpose
