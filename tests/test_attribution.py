"""Attribution trains only what a knob changes: a side the knob leaves alone keeps its earlier run."""

from __future__ import annotations

import pytest

from cwtest.frameworks.sides import parse_pair
from cwtest.inputs.data import synthetic_cifar10
from cwtest.registries.knobs import ALL, KNOBS, side_knobs
from cwtest.core.training_loop import Plan


@pytest.mark.parametrize("arch", ["vgg16", "resnet50", "densenet121"])
def test_every_knob_changes_a_side_or_says_it_does_nothing_here(arch):
    changed = side_knobs(arch, ALL, "torch") | side_knobs(arch, ALL, "keras")
    for name, knob in KNOBS.items():
        assert (name in changed) == knob.applies_to(arch), name
    assert side_knobs(arch, ALL, "torch") & side_knobs(arch, ALL, "keras") == {"deterministic"}


def test_densenet_has_no_dropout_and_one_structure():
    for api in ("torch", "keras"):
        assert side_knobs("densenet121", frozenset({"dropout", "architecture"}), api) == frozenset()


def test_a_side_the_knob_leaves_alone_is_reused_and_would_train_the_same():
    from cwtest.training.paired import train_pair

    data = synthetic_cifar10(train=40, test=20)
    plan = Plan(learning_rate=1e-4, adam_epsilon=1e-7, batch_size=20, epochs=1, train_images=40, test_images=20)
    pair, reuse, lines = parse_pair("torch:cpu,tensorflow:cpu"), {}, []
    published = train_pair("vgg16", "published", plan, data, frozenset(), pair, lines.append, reuse=reuse)
    assert len(reuse) == 2 and not any("reusing" in line for line in lines)
    knob = train_pair("vgg16", "+adam_epsilon", plan, data, frozenset({"adam_epsilon"}), pair, lines.append,
                      reuse=reuse)
    assert [line for line in lines if "reusing" in line] == [
        "+adam_epsilon tensorflow:cpu: these knobs leave its training as in an earlier run; reusing that run"]
    assert knob.step_losses[1] == published.step_losses[1]
    assert knob.step_losses[0] != published.step_losses[0]  # torch trained again, with the knob
    # Reuse rests on a side training the same way twice: torch on the CPU does, to the bit.
    again = train_pair("vgg16", "published again", plan, data, frozenset(), pair, lines.append)
    assert again.step_losses[0] == published.step_losses[0]


def test_init_and_weight_distance_take_two_tensorflow_sides():
    """A pair of one framework shares its initial weights as it is (Keras to Keras, as torch to torch),
    not through the torch->Keras layer mapping, which needs one side of each."""
    from cwtest.frameworks import trainer_for
    from cwtest.training.paired import build_pair, weight_distance

    pair, knobs = parse_pair("tensorflow:cpu,tensorflow:cpu:tf32"), frozenset({"init"})
    models = build_pair("vgg16", knobs, pair)
    assert weight_distance("vgg16", knobs, pair, models) == 0
    trainer = trainer_for(pair.right)  # the models live where Keras trains them (cwtest.frameworks.child)
    trainer.set_weights(models[1], [w + 1 for w in trainer.weights(models[1])])
    assert weight_distance("vgg16", knobs, pair, models) > 0


@pytest.mark.parametrize("pair_text, fresh", [("torch:cpu,tensorflow:cpu", True), ("tensorflow:cpu,torch:cpu", False)])
def test_the_noise_floor_takes_the_left_run_it_would_train_again(pair_text, fresh):
    """Harmonized, the left side's run is the noise floor's un-nudged run where that side trains from
    its own build (with `init`, a Keras side takes the torch side's weights), and the floor trains
    only the steps step-level parity judges."""
    from cwtest.training.paired import noise_floor, starts_fresh, train_pair

    assert starts_fresh(parse_pair(pair_text), ALL) is fresh
    data = synthetic_cifar10(train=60, test=20)
    plan = Plan(learning_rate=1e-4, adam_epsilon=1e-7, batch_size=20, epochs=1, train_images=60, test_images=20)
    pair = parse_pair("torch:cpu,tensorflow:cpu")
    trained = train_pair("vgg16", "harmonized", plan, data, ALL, pair, lambda line: None)
    alone = noise_floor("vgg16", plan, data, ALL, pair.left, steps=2)
    reused = noise_floor("vgg16", plan, data, ALL, pair.left, reference=trained.step_losses[0], steps=2)
    assert len(trained.step_losses[0]) == 3 and alone == reused and len(alone) == 2 and max(alone) > 0
