"""The catalogue of semantic differences between PyTorch and Keras, each with the switch that harmonizes it.

Every entry is demonstrated by the layer suite: a case built with the published semantics of
one difference (all others harmonized) is a strict xfail whose reason names the entry, and
its harmonized twin must pass. Strict, so that a release which removes a difference fails
the run and the catalogue gets updated instead of silently describing the past. Where an entry says it does
not exist (another backend, another release: `only_on`, `since`, `until`), its published case must pass, so
that a backend or release that acquires it fails the run too.
Sources and background: ../shared/docs/semantics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from packaging.version import Version

# The checks a difference can show in; a published case is generated only for those.
CHECKS = ("forward", "gradients", "optimizer")


@dataclass(frozen=True)
class Difference:
    name: str
    explanation: str
    harmonize: str
    shows_in: tuple[str, ...]
    # Keras backends on which the harmonization above cannot remove it, and why: their twin is an xfail too.
    stays_on: tuple[str, ...] = ()
    stays_because: str = ""
    # The Keras backends it exists on, where it is one backend's convention rather than Keras's. Empty: all.
    only_on: tuple[str, ...] = ()
    # The Keras releases it exists in: from `since` to before `until` (None: every release checked, 3.5.0 to
    # 3.15.1, by the layer suite on each: .ci/keras-range). Where it does not exist, on another backend or
    # release, its published case is not an xfail: it must pass, and a backend that acquires it fails.
    since: str | None = None
    until: str | None = None

    @property
    def reason(self) -> str:
        return f"catalogued difference {self.name}: {self.explanation}; harmonize: {self.harmonize}"

    def exists_on(self, keras_backend: str | None) -> bool:
        """Whether it exists on `keras_backend` (None: on some backend) with the installed Keras."""
        return (not self.only_on or keras_backend is None or keras_backend in self.only_on) and self._in_this_keras()

    def _in_this_keras(self) -> bool:
        try:
            installed = Version(metadata.version("keras"))
        except metadata.PackageNotFoundError:
            return True  # no Keras here: it may exist on the Keras a run meets
        return ((self.since is None or installed >= Version(self.since))
                and (self.until is None or installed < Version(self.until)))

    def stays(self, keras_backend: str) -> str | None:
        """Why harmonizing does not remove it on `keras_backend`, None where it does."""
        return f"catalogued difference {self.name}: {self.stays_because}" if keras_backend in self.stays_on else None

    def stays_between(self, keras_backends: tuple[str, ...]) -> str | None:
        """Why the harmonized twin still differs between a pair's sides, None where it agrees: against torch
        (one Keras backend named), where it stays on that backend; between two Keras backends, where it stays on
        one of them only (where both keep it, both compute alike)."""
        reasons = [reason for reason in map(self.stays, keras_backends) if reason]
        return reasons[0] if len(reasons) == 1 else None


DIFFERENCES = {d.name: d for d in (
    Difference("adam_epsilon",
               "torch adds eps to the bias-corrected sqrt(v_hat), Keras to sqrt(v), so Keras's eps acts "
               "1/sqrt(1-beta2^t) times larger (31.6x at t=1, 3.2x at t=100 for beta2=0.999)",
               "give torch eps / sqrt(1 - beta2^t) before step t", ("optimizer",)),
    Difference("adam_bias_correction",
               "Keras computes Adam's step size lr * sqrt(1 - beta2^t) / (1 - beta1^t) in float32 from the betas "
               "rounded to float32 (0.999 -> 0.99900001, so 1 - beta2 is 1.3e-5 too small), torch in Python "
               "float64: Keras's step is about 6.5e-6 (54 fp32 eps) relatively smaller at every step, always "
               "the same way",
               "give torch the learning rate Keras's float32 step size * (1 - beta1^t) / sqrt(1 - beta2^t) "
               "before step t (and AdamW the weight decay that keeps lr * weight_decay)", ("optimizer",)),
    Difference("adam_weight_decay",
               "torch Adam(weight_decay) adds wd*theta to the gradient (L2), Keras Adam(weight_decay) "
               "decays theta directly (decoupled)",
               "torch AdamW against Keras Adam(weight_decay)", ("optimizer",)),
    Difference("adamw_default_weight_decay",
               "torch AdamW's weight_decay defaults to 0.01, Keras AdamW's to 0.004: a port that keeps the defaults "
               "decays 2.5 times as fast in torch",
               "pass the same weight_decay to both", ("optimizer",)),
    Difference("rmsprop_rho",
               "torch RMSprop's alpha, the squared gradients' decay, defaults to 0.99, Keras RMSprop's rho to 0.9: "
               "the first step of torch's is sqrt(10) times Keras's, and later ones follow another average",
               "pass Keras's rho to torch as alpha", ("optimizer",)),
    Difference("sqrt_epsilon_placement",
               "RMSprop and Adagrad divide by sqrt(v + eps) in Keras and by sqrt(v) + eps in torch (v the average "
               "or sum of squared gradients): wherever v is not far above eps (gradients of 1e-3 against eps 1e-7, "
               "on RMSprop's first step) Keras's step is the smaller, up to sqrt(eps) / eps times",
               "eps 0 on both sides: no one epsilon makes the two placements agree for every v (the gradients "
               "drawn are never zero)", ("optimizer",)),
    Difference("adafactor_epsilon1",
               "torch's Adafactor floors its second-moment estimate at eps1 squared, eps1 defaulting to float32's "
               "machine epsilon (a floor of 1.4e-14), Keras's adds epsilon_1 (1e-30) to every squared gradient: "
               "wherever gradients are below about 1e-7 torch's floor decides the step, and its steps are the smaller",
               "torch eps1 1e-30 (a floor of 1e-60, zero in float32) against Keras epsilon_1 0", ("optimizer",)),
    Difference("muon_orthogonalization_bfloat16",
               "torch's Muon orthogonalizes each update (its Newton-Schulz iteration) in bfloat16, as the reference "
               "implementation does, Keras's in the variable's type (float32): torch's steps carry bfloat16's "
               "rounding, about 0.4% of each step",
               "torch's iteration in float32 (its one cast to bfloat16 made a float32 copy; no argument of torch's "
               "sets it)", ("optimizer",)),
    Difference("muon_lr_adjustment",
               "torch's Muon scales the learning rate by sqrt(max(1, rows / cols)) by default (adjust_lr_fn "
               "'original', the reference's), Keras's (3.13.0 on) by 0.2 * sqrt(max(rows, cols)) (rms_rate 0.2, "
               "Moonlight's, which torch offers as 'match_rms_adamw'): for a 16 x 16 matrix Keras's steps are 0.8 "
               "times torch's, for 4 x 16 0.8 against 1",
               "torch adjust_lr_fn='match_rms_adamw'", ("optimizer",), since="3.13.0"),
    Difference("muon_default_weight_decay",
               "torch's Muon decays weights by 0.1 by default, Keras's (3.13.0 on) by 0.004: a port that keeps the "
               "defaults decays 25 times as fast in torch",
               "pass the same weight_decay to both", ("optimizer",), since="3.13.0"),
    Difference("adagrad_initial_accumulator",
               "Keras's Adagrad starts its sum of squared gradients at initial_accumulator_value 0.1, torch's at 0: "
               "wherever gradients are not far above 0.3, Keras's first steps are the smaller (by 300 times for "
               "gradients of 1e-3)",
               "pass Keras's initial_accumulator_value to torch", ("optimizer",)),
    Difference("adadelta_defaults",
               "torch Adadelta defaults to lr 1.0, rho 0.9 and eps 1e-6, Keras Adadelta to learning_rate 0.001, "
               "rho 0.95 and epsilon 1e-7: a port that keeps the defaults steps about 1000 times less in Keras",
               "pass the same learning rate, rho and epsilon to both", ("optimizer",)),
    Difference("adamax_epsilon",
               "torch's Adamax adds eps to |g| inside the running maximum, u = max(beta2 * u, |g| + eps), and "
               "decays it with u; Keras's keeps u = max(beta2 * u, |g|) and divides by u + eps: where gradients are "
               "not far above eps the two steps differ, torch's decayed eps the larger",
               "eps 0 on both sides (no one epsilon makes the two agree; the gradients drawn are never zero)",
               ("optimizer",)),
    Difference("nadam_momentum_decay",
               "Keras's Nadam warms its momentum up as mu_t = beta1 * (1 - 0.5 * 0.96^t); torch's NAdam as "
               "beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)) with momentum_decay 0.004 by default: torch's "
               "momentum stays near beta1 / 2 for thousands of steps, Keras's reaches beta1 within about 100",
               "torch NAdam(momentum_decay=1)", ("optimizer",)),
    Difference("avgpool_counts_padding",
               "torch AvgPool2d(padding=p) counts the padded zeros in each border window's mean "
               "(count_include_pad=True, its default); Keras's AveragePooling2D(padding='same') averages only the "
               "inputs a window holds: a 3x3 mean at a corner is 4/9 of Keras's",
               "torch AvgPool2d(count_include_pad=False)", ("forward", "gradients")),
    Difference("bn_momentum",
               "torch running = (1-m)*running + m*batch with m=0.1, Keras moving = m*moving + (1-m)*batch "
               "with m=0.99",
               "Keras momentum = 1 - torch momentum", ("forward",)),
    Difference("bn_epsilon", "BatchNorm epsilon is 1e-5 in torch and 1e-3 in Keras",
               "pass torch's epsilon to Keras", ("forward", "gradients")),
    Difference("bn_one_pass_variance",
               "Keras on torch computes BatchNorm's batch variance in one pass, mean(x^2) - mean(x)^2, which "
               "cancels where the batch's mean is large against its spread (after a conv bias, as in the v1 "
               "ResNet bottleneck): at a mean 100x the spread its output is about 170 fp32 eps of the input "
               "off, at 1000x about 1600; torch, and Keras on TensorFlow and JAX, subtract the mean first "
               "(docs/defects/keras_torch_one_pass_batch_variance.md)",
               "a Keras BatchNormalization whose batch moments subtract the mean first (two passes), on Keras on "
               "torch only: on TensorFlow and JAX the twin runs Keras's own", ("forward",),
               only_on=("torch",)),
    Difference("bn_running_variance",
               "torch updates the running variance with the unbiased batch variance (n/(n-1)), Keras with "
               "the biased one",
               "a Keras BatchNormalization that updates with the unbiased variance", ("forward",)),
    Difference("mae_gradient_at_zero",
               "Keras on JAX differentiates mean_absolute_error's |y - x| through jnp.abs, whose derivative at 0 is 1: "
               "where a prediction equals its target its gradient is -1/n, where torch's l1_loss, and Keras on "
               "TensorFlow and on torch, give sign(0) = 0",
               "a Keras MAE computed as mean(sign(x - y) * (x - y)), whose gradient at x = y is sign(0) = 0 on every "
               "backend", ("gradients",), only_on=("jax",)),
    Difference("kl_divergence_clipping",
               "Keras's kl_divergence clips both distributions to [1e-7, 1] before the logarithm; torch's kl_div takes "
               "the prediction's log-probabilities (log_softmax here) and clips nothing: wherever a predicted "
               "probability is under 1e-7 (logits 16 apart) Keras's loss is the smaller, capped at about 16.1 times the "
               "target's probability, and its gradient there is zero",
               "torch computes Keras's formula: both distributions clamped to [1e-7, 1], then y * log(y / q)",
               ("forward", "gradients")),
    Difference("smooth_l1_is_huber_over_beta",
               "torch's SmoothL1Loss(beta) is Huber's loss divided by beta (0.5 d^2 / beta within beta, |d| - beta / 2 "
               "beyond); Keras has no smooth L1, and its huber(delta) is 0.5 d^2 within delta, delta * (|d| - "
               "delta / 2) beyond: a port of smooth_l1_loss to huber is off by the factor beta, in the loss and in its "
               "gradients",
               "torch's smooth_l1_loss times beta (or torch's huber_loss)", ("forward", "gradients")),
    Difference("layernorm_epsilon",
               "LayerNormalization's epsilon defaults to 1e-3 in Keras, nn.LayerNorm's eps to 1e-5 in torch",
               "pass epsilon to both", ("forward", "gradients")),
    Difference("rmsnorm_epsilon",
               "RMSNormalization's epsilon defaults to 1e-6 in Keras; nn.RMSNorm's eps defaults to None in torch, the "
               "input type's machine epsilon (1.2e-7 in float32): inputs whose mean square is 1e-6 come out 0.75 times "
               "torch's",
               "pass epsilon to both (torch's default: Keras gets that machine epsilon)", ("forward", "gradients")),
    Difference("groupnorm_epsilon",
               "GroupNormalization's epsilon defaults to 1e-3 in Keras, nn.GroupNorm's eps to 1e-5 in torch",
               "pass epsilon to both", ("forward", "gradients")),
    Difference("flatten_channel_order",
               "torch.nn.Flatten flattens an NCHW tensor channel by channel (C, H, W); keras.layers.Flatten flattens "
               "H, W, C, and moves a channels_first input's channels last first: the same image gives the same "
               "values in another order, so a Dense after it reads other weights for each input",
               "permute torch's tensor to NHWC before flattening (x.permute(0, 2, 3, 1).flatten(1)), or reorder the "
               "Dense weight's rows (cwtest.core.layouts.channels_last_rows)", ("forward", "gradients")),
    Difference("resize_nearest_pixel_centers",
               "nearest-neighbour resizing: torch.nn.functional.interpolate(mode='nearest') takes input "
               "floor(i * in / out) for output i, the one at the output pixel's top-left corner; Keras's Resizing "
               "and UpSampling2D (tf.image.resize, jax.image.resize) take floor((i + 0.5) * in / out), the one at "
               "its centre. They agree only where the output is a whole multiple of the input",
               "torch's mode='nearest-exact'", ("forward", "gradients")),
    Difference("gelu_ops_tanh_default",
               "keras.ops.gelu, which a custom Keras layer calls, defaults to the tanh approximation "
               "(approximate=True); torch.nn.GELU and keras.activations.gelu default to the exact, erf form: "
               "up to about 4.7e-4 apart near x = -2",
               "pass approximate to both (keras.activations.gelu(approximate=...), torch.nn.GELU(approximate='tanh' "
               "or 'none'))", ("forward", "gradients")),
    Difference("leaky_relu_negative_slope",
               "LeakyReLU's slope below zero defaults to 0.01 in torch, 0.3 in keras.layers.LeakyReLU (and 0.2 in "
               "keras.activations.leaky_relu)",
               "pass negative_slope to both", ("forward", "gradients")),
    Difference("leaky_relu_gradient_at_zero",
               "Keras on JAX (jax.nn.leaky_relu: where(x >= 0, x, slope * x)) gives LeakyReLU a gradient of 1 at "
               "x = 0; torch, and Keras on TensorFlow and on torch, give it the negative slope",
               "a Keras LeakyReLU computed as where(x > 0, x, slope * x)", ("gradients",), only_on=("jax",)),
    Difference("prelu_gradient_at_zero",
               "keras.layers.PReLU computes relu(x) - alpha * relu(-x), whose gradient at x = 0 is 0 on every Keras "
               "backend; torch.nn.PReLU's is its slope alpha (the negative side's)",
               "a Keras PReLU computed as where(x > 0, x, alpha * x)", ("gradients",)),
    Difference("selu_gradient_at_zero",
               "Keras on TensorFlow (its SeluGrad kernel) gives SELU a gradient of scale (1.0507) at x = 0; torch, "
               "and Keras on JAX and on torch, give it scale * alpha (1.7581), the negative side's",
               "a Keras SELU computed as scale * where(x > 0, x, alpha * expm1(x))", ("gradients",),
               only_on=("tensorflow",)),
    Difference("same_padding_stride2",
               "Keras padding='same' with stride 2 on an even size pads only (or more) at the bottom/right, "
               "torch padding=k//2 pads both sides: same shape, grid shifted by a pixel",
               "Keras ZeroPadding2D(k//2) followed by padding='valid'", ("forward", "gradients")),
    Difference("softmax_loss_clipping",
               "Keras cross-entropy on probabilities that no longer carry their logits (any op after the "
               "softmax, e.g. a cast) clips them to [1e-7, 1-1e-7]: loss capped at 16.1, zero gradient "
               "where clipped; torch computes from logits. Straight from a softmax, Keras 3 recovers the "
               "logits and does not clip",
               "from_logits=True on the logits (cross_entropy_logits), or the softmax output straight "
               "into the loss (cross_entropy_softmax's twin)", ("forward", "gradients"),
               stays_on=("jax", "torch"),
               stays_because="only Keras on TensorFlow keeps the logits on a softmax output (a TensorFlow "
                             "tensor's _keras_logits); on jax and torch the cross-entropy of probabilities always "
                             "clips them: use from_logits=True (cross_entropy_logits)"),
)}


@dataclass(frozen=True)
class Case:
    """A registry entry with some of its differences kept as the frameworks ship them (none: fully harmonized).
    Its id names each kept difference `published_<name>`: as the frameworks publish it."""

    entry: object  # anything with .name, .differences and .checks
    kept: frozenset[str] = frozenset()  # left as the frameworks ship them

    @property
    def id(self) -> str:
        return "-".join([self.entry.name, *(f"published_{d}" for d in sorted(self.kept))])

    def differs_between(self, keras_backends: tuple[str, ...]) -> bool:
        """Whether a pair of these Keras backends would differ by what the case keeps: each of
        its differences exists on one of them only (a backend's own convention, e.g. bn_one_pass_variance)."""
        return bool(self.kept) and all(
            sum(DIFFERENCES[d].exists_on(b) for b in keras_backends) == 1 for d in self.kept)


def cases(entries, check: str) -> list[Case]:
    """Each entry that runs this check harmonized, then once per catalogued difference that shows in it,
    left as the frameworks ship it."""
    found = []
    for entry in entries:
        if check not in entry.checks:
            continue
        found.append(Case(entry))
        found += [Case(entry, frozenset({d})) for d in entry.differences if check in DIFFERENCES[d].shows_in]
    return found


def pytest_params(entries, check: str, keras_backends: tuple[str, ...] = ("tensorflow",)) -> list:
    """The cases as pytest params, for a run on `keras_backends` (this process's first). A published case is a
    strict xfail that names its difference and accepts only a mismatch (an AssertionError), not a crash, where
    the difference exists on one of them (`Difference.exists_on`: its backends and releases); elsewhere it must
    pass. So is a harmonized one whose difference stays between the pair's sides (`Difference.stays_between`)."""
    import pytest

    return [pytest.param(case, id=case.id, marks=[
        pytest.mark.xfail(strict=True, raises=AssertionError, reason=r) for r in xfail_reasons(case, check, keras_backends)])
        for case in cases(entries, check)]


def xfail_reasons(case: Case, check: str, keras_backends: tuple[str, ...]) -> list[str]:
    """Why the case's check is expected to fail on a run on `keras_backends` (`pytest_params`); none: it must pass."""
    found = [DIFFERENCES[d].reason for d in case.kept if any(map(DIFFERENCES[d].exists_on, keras_backends))]
    for name in case.entry.differences:
        stays = DIFFERENCES[name].stays_between(keras_backends)
        if stays and name not in case.kept and check in DIFFERENCES[name].shows_in:
            found.append(stays)
    return found
