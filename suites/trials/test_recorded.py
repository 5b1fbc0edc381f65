"""What the trial table recorded is consistent with itself, before anything is trained.

A row whose accuracy difference is not |pt - tf|, or whose loss curves do not have one
value per epoch, would make every comparison against it meaningless: such a row fails here.
"""

import math

# The exports store accuracies as float32 values printed to about nine digits.
RECORDED_DIGITS = 1e-6


def test_recorded_numbers_agree(crossedwires_trial, record_metric):
    trial = crossedwires_trial
    record_metric("recorded_pt_test_acc", trial.pt_test_acc)
    record_metric("recorded_tf_test_acc", trial.tf_test_acc)
    record_metric("recorded_accuracy_diff", trial.accuracy_diff)
    assert math.isclose(abs(trial.pt_test_acc - trial.tf_test_acc), trial.accuracy_diff, abs_tol=RECORDED_DIGITS), (
        f"accuracy_diff {trial.accuracy_diff} is not |{trial.pt_test_acc} - {trial.tf_test_acc}|")
    for name in ("pt_average_training_loss", "pt_latest_training_loss", "tf_training_loss"):
        curve = getattr(trial, name)
        assert curve == () or len(curve) == trial.epochs, f"{name} has {len(curve)} values for {trial.epochs} epochs"
