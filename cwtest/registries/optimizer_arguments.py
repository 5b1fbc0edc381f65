"""Every argument of every optimizer the optimizer registry (cwtest.registries.optimizers) builds, on torch and on
Keras: how its strategy draws it, or why it is out of the optimizer cases' scope.

OPTIMIZER_ARGUMENTS maps an entry's builder key (Optimizer.builds) to its optimizers, each by the path a user imports
it from, to {argument: how}. tests/test_layer_arguments.py fails when a release gives one of them an argument its
table does not mention. Plain data: nothing here imports a framework.
"""

from __future__ import annotations

PARAMS = "the one parameter vector of the case (cwtest.registries.optimizers.start)"
LR = "drawn (torch's lr, Keras's learning_rate)"
FOREACH = "irrelevant: the same arithmetic over a list of tensors, and the case has one"
MAXIMIZE = "out of scope: a negated gradient, the same step mirrored"
CAPTURABLE = "out of scope: keeps the step count on a CUDA device for graph capture; the cases run on the CPU"
DIFFERENTIABLE = "out of scope: autograd through the step itself"
FUSED = "out of scope: a fused CUDA kernel; the cases run on the CPU"
TORCH_WEIGHT_DECAY = ("out of scope: L2 added to the gradient in torch, a decoupled decay in Keras, with no torch "
                      "option that decouples it (adam_weight_decay shows the difference on Adam, where one does)")
ADAM_PATH = ("irrelevant: Keras's Muon steps by AdamW a variable that is not 2-D or that these name, and the case's is "
             "a 2-D variable of no layer")
AMSGRAD = "out of scope: not drawn yet; torch and Keras both keep the maximum of the second moments"

# Keras's base optimizer's arguments, every Keras optimizer's.
_KERAS_COMMON = {
    "weight_decay": "None: see torch's weight_decay", "clipnorm": "out of scope: not drawn yet (per variable in Keras, "
    "where torch clips outside the optimizer, clip_grad_norm_)", "clipvalue": "out of scope: as clipnorm",
    "global_clipnorm": "out of scope: as clipnorm", "use_ema": "out of scope: a moving average of the weights, which "
    "torch keeps outside the optimizer (torch.optim.swa_utils)", "ema_momentum": "out of scope: as use_ema",
    "ema_overwrite_frequency": "out of scope: as use_ema", "loss_scale_factor": "irrelevant: the gradients are given, "
    "unscaled", "gradient_accumulation_steps": "out of scope: one gradient per step", "name": "irrelevant: a name"}
_TORCH_COMMON = {"params": PARAMS, "lr": LR, "foreach": FOREACH, "maximize": MAXIMIZE, "differentiable": DIFFERENTIABLE}
_BETAS = "drawn: beta1 and beta2 (Keras's beta_1 and beta_2)"
_TORCH_ADAMW = {**_TORCH_COMMON, "betas": _BETAS, "eps": "drawn (adam_epsilon)", "weight_decay": "drawn: decoupled",
                "amsgrad": AMSGRAD, "capturable": CAPTURABLE, "fused": FUSED}

OPTIMIZER_ARGUMENTS: dict[str, dict[str, dict[str, str]]] = {
    "adam": {
        "torch.optim.Adam": {**_TORCH_COMMON, "betas": _BETAS, "eps": "drawn (adam_epsilon)",
                             "weight_decay": "drawn: L2 in torch's Adam (adam_weight_decay's published case)",
                             "amsgrad": AMSGRAD, "capturable": CAPTURABLE, "fused": FUSED,
                             "decoupled_weight_decay": "True where harmonized: AdamW (adam_weight_decay)"},
        "torch.optim.AdamW": _TORCH_ADAMW,
        "keras.optimizers.Adam": {**_KERAS_COMMON, "learning_rate": LR, "beta_1": _BETAS, "beta_2": _BETAS,
                                  "epsilon": "drawn", "amsgrad": AMSGRAD, "weight_decay": "drawn: decoupled"},
    },
    "adamw": {
        "torch.optim.AdamW": {**_TORCH_ADAMW, "weight_decay": "drawn (the published case: each side's default)"},
        "keras.optimizers.AdamW": {**_KERAS_COMMON, "learning_rate": LR, "beta_1": _BETAS, "beta_2": _BETAS,
                                   "epsilon": "drawn", "amsgrad": AMSGRAD,
                                   "weight_decay": "drawn (the published case: each side's default)"},
    },
    "sgd": {
        "torch.optim.SGD": {**_TORCH_COMMON, "momentum": "drawn: 0, 0.5 or 0.9", "dampening": "out of scope: 0, "
                            "as Keras, which has none", "weight_decay": TORCH_WEIGHT_DECAY, "nesterov": "drawn",
                            "fused": FUSED},
        "keras.optimizers.SGD": {**_KERAS_COMMON, "learning_rate": LR, "momentum": "drawn", "nesterov": "drawn"},
    },
    "rmsprop": {
        "torch.optim.RMSprop": {**_TORCH_COMMON, "alpha": "drawn as Keras's rho (the published case: each side's "
                                "default, rmsprop_rho)", "eps": "drawn (the published case of sqrt_epsilon_placement), "
                                "else 0", "weight_decay": TORCH_WEIGHT_DECAY, "momentum": "drawn: 0 (rmsprop, "
                                "rmsprop_centered), 0.5 or 0.9 (rmsprop_momentum)", "centered": "drawn: "
                                "rmsprop_centered", "capturable": CAPTURABLE},
        "keras.optimizers.RMSprop": {**_KERAS_COMMON, "learning_rate": LR, "rho": "drawn", "momentum": "drawn",
                                     "epsilon": "as torch's eps", "centered": "drawn"},
    },
    "adagrad": {
        "torch.optim.Adagrad": {**_TORCH_COMMON, "lr_decay": "out of scope: 0, as Keras, which has none",
                                "weight_decay": TORCH_WEIGHT_DECAY, "initial_accumulator_value": "drawn: 0 or 1e-8 "
                                "(the published case: each side's default, adagrad_initial_accumulator)",
                                "eps": "drawn (sqrt_epsilon_placement's published case), else 0", "fused": FUSED},
        "keras.optimizers.Adagrad": {**_KERAS_COMMON, "learning_rate": LR, "initial_accumulator_value": "as torch's",
                                     "epsilon": "as torch's eps"},
    },
    "adadelta": {
        "torch.optim.Adadelta": {**_TORCH_COMMON, "rho": "drawn (the published case: each side's default, as lr and "
                                 "eps: adadelta_defaults)", "eps": "drawn", "weight_decay": TORCH_WEIGHT_DECAY,
                                 "capturable": CAPTURABLE},
        "keras.optimizers.Adadelta": {**_KERAS_COMMON, "learning_rate": LR, "rho": "drawn", "epsilon": "drawn"},
    },
    "adamax": {
        "torch.optim.Adamax": {**_TORCH_COMMON, "betas": _BETAS, "eps": "drawn, far under the gradients",
                               "weight_decay": TORCH_WEIGHT_DECAY, "capturable": CAPTURABLE},
        "keras.optimizers.Adamax": {**_KERAS_COMMON, "learning_rate": LR, "beta_1": _BETAS, "beta_2": _BETAS,
                                    "epsilon": "as torch's eps"},
    },
    "adamax_small_gradients": {
        "torch.optim.Adamax": {**_TORCH_COMMON, "betas": _BETAS, "eps": "drawn, of the gradients' size (the published "
                               "case of adamax_epsilon), else 0", "weight_decay": TORCH_WEIGHT_DECAY,
                               "capturable": CAPTURABLE},
        "keras.optimizers.Adamax": {**_KERAS_COMMON, "learning_rate": LR, "beta_1": _BETAS, "beta_2": _BETAS,
                                    "epsilon": "as torch's eps"},
    },
    "nadam": {
        "torch.optim.NAdam": {**_TORCH_COMMON, "betas": _BETAS, "eps": "drawn", "weight_decay": TORCH_WEIGHT_DECAY,
                              "momentum_decay": "1 where harmonized, Keras's warm-up; the published case: torch's "
                              "default 0.004 (nadam_momentum_decay)", "decoupled_weight_decay": "out of scope: "
                              "weight decay is not drawn", "capturable": CAPTURABLE},
        "keras.optimizers.Nadam": {**_KERAS_COMMON, "learning_rate": LR, "beta_1": _BETAS, "beta_2": _BETAS,
                                   "epsilon": "drawn"},
    },
    "adafactor": {
        "torch.optim.Adafactor": {**_TORCH_COMMON, "beta2_decay": "drawn", "eps": "(eps1, eps2): eps1 1e-30 where "
                                  "harmonized, torch's default None in the published case (adafactor_epsilon1); "
                                  "eps2 drawn", "d": "drawn, as Keras's clip_threshold",
                                  "weight_decay": TORCH_WEIGHT_DECAY},
        "keras.optimizers.Adafactor": {**_KERAS_COMMON, "learning_rate": LR, "beta_2_decay": "drawn",
                                       "epsilon_1": "0 where harmonized, Keras's default 1e-30 in the published case",
                                       "epsilon_2": "drawn", "clip_threshold": "drawn", "relative_step": "True: the "
                                       "learning rate capped at 1 / sqrt(t), as torch's always is"},
    },
    "muon": {
        "torch.optim.Muon": {"params": "the one parameter matrix of the case (cwtest.registries.optimizers.start)",
                             "lr": LR, "weight_decay": "drawn; torch's default 0.1 in the published case "
                             "(muon_default_weight_decay)", "momentum": "drawn", "nesterov": "drawn",
                             "ns_coefficients": "the default (3.4445, -4.775, 2.0315), Keras's muon_a, b, c",
                             "eps": "the default 1e-7 (floors the norm; Keras adds its 1e-7): below a float32 rounding of "
                             "the gradients drawn", "ns_steps": "the default 5, Keras's ns_steps",
                             "adjust_lr_fn": "'match_rms_adamw' where harmonized, the default 'original' in the published "
                             "case (muon_lr_adjustment)"},
        "keras.optimizers.Muon": {**_KERAS_COMMON, "learning_rate": LR, "weight_decay": "drawn; Keras's default 0.004 "
                                  "in the published case", "momentum": "drawn", "nesterov": "drawn",
                                  "ns_steps": "5 (the default since 3.13.0; 6 before)", "muon_a": "the default",
                                  "muon_b": "the default", "muon_c": "the default", "rms_rate": "the default 0.2: "
                                  "torch's 'match_rms_adamw' scale", "adam_beta_1": ADAM_PATH, "adam_beta_2": ADAM_PATH,
                                  "adam_weight_decay": ADAM_PATH, "adam_lr_ratio": ADAM_PATH, "epsilon": ADAM_PATH,
                                  "exclude_layers": ADAM_PATH, "exclude_embeddings": ADAM_PATH},
    },
}
