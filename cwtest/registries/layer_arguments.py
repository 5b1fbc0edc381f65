"""Every argument of every layer the layer registry (cwtest.registries.layers) builds, on torch and on Keras: how
its strategy (cwtest.registries.layer_strategies) draws it, or why it is out of the layer suite's scope.

ARGUMENTS maps a block to its layers, each by the path a user imports it from, to {argument: how}; a block
made of other blocks' layers with arguments fixed by its architecture is in COMPOSED instead.
tests/test_layer_arguments.py fails when a release gives one of these layers an argument its table does not
mention, so that the new argument is drawn or ruled out instead of going untested. Plain data: nothing
here imports a framework.
"""

from __future__ import annotations

SHAPE = "from the drawn input shape"
DEVICE = "out of scope: the layer suite runs on the CPU; devices are the transfer suite's (test_devices.py)"
DTYPE = ("drawn: float32 (three of five entries), else bfloat16 or float16 (every block: both sides accept both on "
         "the CPU, forward and backward), both sides computing in it: the torch module and its inputs .to(dtype), "
         "each Keras layer built with dtype= its name; judged against torch's float64 run, forward only "
         "(cwtest.blocks.layer_parity.half_judgements; on TensorFlow a bfloat16 bias gradient sums in bfloat16)")
ACTIVATION = "out of scope: None; each activation is a block of its own (relu, softmax)"
INITIALIZER = "irrelevant: torch's weights are copied over (cwtest.blocks.layer_parity.build_pair)"
REGULARIZER = "out of scope: a loss term, not the layer's computation"
CONSTRAINT = "out of scope: applied by an optimizer after a step, not in the layer's computation"
NAME = "the torch submodule's name, which pairs the weights"
KERAS_PADDING = "drawn: valid or same (with every stride: same pads the odd pixel after)"
DATA_FORMAT = "drawn: channels_last or channels_first (the input transposed before, the output after)"
STRIDES = "drawn: 1 to 3 per axis, square or rectangular, smaller than, equal to or larger than the window"
INPLACE = "irrelevant: the same values in place"
_ACTIVATION_FUNCTION = "the keras.activations function named beside"
_INPLACE = ("selu", "silu", "mish", "relu6", "hard_sigmoid", "hard_swish")  # the torch activations that take inplace

_TORCH_CROSS_ENTROPY = {"input": "the drawn logits", "target": "labels drawn from the seed", "weight": "out of scope: None",
                        "size_average": "deprecated: reduction", "reduce": "deprecated: reduction",
                        "reduction": "none: each row's loss", "ignore_index": "out of scope: every label is a class"}
_REGRESSION_LOSS = {"input": "the drawn inputs", "target": "drawn from the seed, of the inputs' spread",
                    "size_average": "deprecated: reduction", "reduce": "deprecated: reduction",
                    "reduction": "none, then each row's mean, as Keras's"}
_KERAS_REGRESSION_LOSS = {"y_true": "as torch's target", "y_pred": "the drawn inputs"}

_KERAS_NORM = {"epsilon": "torch's eps (the published case: Keras's default)", "center": "torch's affine and bias",
               "scale": "torch's affine", "beta_initializer": INITIALIZER, "gamma_initializer": INITIALIZER,
               "beta_regularizer": REGULARIZER, "gamma_regularizer": REGULARIZER, "beta_constraint": CONSTRAINT,
               "gamma_constraint": CONSTRAINT}

_CONV_TORCH = {
    "in_channels": SHAPE, "out_channels": "drawn (filters)", "kernel_size": "drawn: 1 to 5 per axis, square or "
    "rectangular", "stride": STRIDES, "padding": "drawn: 0, explicit per axis (Keras: ZeroPadding2D), 'same' "
    "(Keras's, explicit where torch has none)", "dilation": "drawn: 1 or 2 per axis (stride 1: Keras rejects both)",
    "groups": "drawn: 1 or 2", "bias": "drawn", "padding_mode": "out of scope: Keras pads with zeros only",
    "device": DEVICE, "dtype": DTYPE,
}
_KERAS_WEIGHTED = {
    "activation": ACTIVATION, "use_bias": "drawn", "bias_initializer": INITIALIZER,
    "bias_regularizer": REGULARIZER, "activity_regularizer": REGULARIZER, "bias_constraint": CONSTRAINT,
}
# A Keras convolution's arguments besides its strides, padding, data format, dilation and groups.
_KERAS_CONV = {
    "filters": "drawn", "kernel_size": "drawn, as torch's", "kernel_initializer": INITIALIZER,
    "kernel_regularizer": REGULARIZER, "kernel_constraint": CONSTRAINT,
    "lora_rank": "out of scope: fine-tuning adapters, off by default", "lora_alpha": "out of scope: as lora_rank",
    **_KERAS_WEIGHTED}
_KERAS_POOL = {"pool_size": "drawn: 1 to 3 per axis, square or rectangular", "strides": STRIDES,
               "padding": KERAS_PADDING, "data_format": DATA_FORMAT, "name": "irrelevant"}

_KERAS_BATCHNORM = {
    "axis": "-1, or 1 for a channels-first case", "momentum": "1 - torch's (bn_momentum)",
    "epsilon": "torch's (bn_epsilon)", "center": "torch's affine and bias", "scale": "torch's affine",
    "beta_initializer": INITIALIZER, "gamma_initializer": INITIALIZER, "moving_mean_initializer": INITIALIZER,
    "moving_variance_initializer": INITIALIZER, "beta_regularizer": REGULARIZER,
    "gamma_regularizer": REGULARIZER, "beta_constraint": CONSTRAINT, "gamma_constraint": CONSTRAINT,
    "renorm": "out of scope: batch renormalization, which torch does not have",
    "renorm_clipping": "out of scope: as renorm", "renorm_momentum": "out of scope: as renorm",
    "synchronized": "out of scope: statistics across devices; one device here"}

ARGUMENTS: dict[str, dict[str, dict[str, str]]] = {
    "conv2d": {
        "torch.nn.Conv2d": _CONV_TORCH,
        "keras.layers.Conv2D": {
            "strides": STRIDES, "padding": KERAS_PADDING, "data_format": DATA_FORMAT,
            "dilation_rate": "drawn, as torch's", "groups": "drawn, as torch's", **_KERAS_CONV},
    },
    "conv1d": {
        "torch.nn.Conv1d": {**_CONV_TORCH, "kernel_size": "drawn: 1 to 3", "stride": "drawn: 1 to 3",
                            "padding": "0, after explicit pads (torch.nn.ConstantPad1d) for Keras's same and causal",
                            "dilation": "drawn: 1 or 2 (stride 1)"},
        "keras.layers.Conv1D": {
            "strides": "drawn, as torch's", "padding": "drawn: valid, same or causal",
            "data_format": "channels_last (torch's layout moved inside its module)",
            "dilation_rate": "drawn, as torch's", "groups": "drawn, as torch's", **_KERAS_CONV},
    },
    "conv3d": {
        "torch.nn.Conv3d": {**_CONV_TORCH, "kernel_size": "drawn: 1 to 3 per axis", "stride": "drawn: 1 to 3",
                            "padding": "0, after explicit pads (torch.nn.ConstantPad3d) for Keras's same",
                            "dilation": "drawn: 1 or 2 (stride 1)"},
        "keras.layers.Conv3D": {
            "strides": "drawn, as torch's", "padding": "drawn: valid or same",
            "data_format": "channels_last (TensorFlow's CPU kernels take no other)",
            "dilation_rate": "drawn, as torch's", "groups": "drawn, as torch's", **_KERAS_CONV},
    },
    "conv2d_transpose": {
        "torch.nn.ConvTranspose2d": {
            "in_channels": SHAPE, "out_channels": "drawn (filters)", "kernel_size": "drawn: 1 to 4 per axis",
            "stride": STRIDES, "padding": "0: the output cut to Keras's size after (same pads the odd one after)",
            "output_padding": "where the stride is larger than the kernel's reach: the positions Keras adds",
            "groups": "out of scope: 1; Keras's Conv2DTranspose has no groups", "bias": "drawn",
            "dilation": "drawn: 1 or 2 per axis (stride 1)", "padding_mode": "out of scope: zeros only (torch's too)",
            "device": DEVICE, "dtype": DTYPE},
        "keras.layers.Conv2DTranspose": {
            "filters": "drawn", "kernel_size": "drawn, as torch's", "strides": STRIDES, "padding": KERAS_PADDING,
            "output_padding": "None: Keras's own output size from its padding (torch's cut to it)",
            "data_format": DATA_FORMAT, "dilation_rate": "drawn, as torch's", "kernel_initializer": INITIALIZER,
            "kernel_regularizer": REGULARIZER, "kernel_constraint": CONSTRAINT, **_KERAS_WEIGHTED},
    },
    "conv2d_depthwise": {
        "torch.nn.Conv2d": {**_CONV_TORCH, "groups": "the input's channels (a depthwise convolution)",
                            "out_channels": "channels times the drawn depth multiplier",
                            "padding": "drawn: 0 or 'same' (Keras's, explicit where torch has none)",
                            "kernel_size": "drawn: 1 to 3 per axis, square or rectangular"},
        "keras.layers.DepthwiseConv2D": {
            "kernel_size": "drawn, as torch's", "strides": STRIDES, "padding": KERAS_PADDING,
            "depth_multiplier": "drawn: 1 or 2", "data_format": DATA_FORMAT, "dilation_rate": "drawn, as torch's",
            "depthwise_initializer": INITIALIZER, "depthwise_regularizer": REGULARIZER,
            "depthwise_constraint": CONSTRAINT, **_KERAS_WEIGHTED},
    },
    "batchnorm": {
        "torch.nn.BatchNorm2d": {
            "num_features": SHAPE, "eps": "drawn: torch's default, 1e-5, 1e-3 or 0.1 (bn_epsilon keeps the defaults)",
            "momentum": "drawn: the default, 0.01 or 0.5 (bn_momentum keeps the defaults)",
            "affine": "drawn", "bias": "drawn where affine: a learnable scale without an offset (Keras center=False)",
            "track_running_stats": "out of scope: Keras always keeps moving statistics", "device": DEVICE,
            "dtype": DTYPE},
        "keras.layers.BatchNormalization": _KERAS_BATCHNORM,
    },
    "batchnorm_nd": {
        "torch.nn.BatchNorm1d": {
            "num_features": SHAPE, "eps": "drawn, as BatchNorm2d's", "momentum": "drawn, as BatchNorm2d's",
            "affine": "drawn", "bias": "drawn where affine", "track_running_stats": "out of scope: as BatchNorm2d's",
            "device": DEVICE, "dtype": DTYPE},
        "torch.nn.BatchNorm3d": {
            "num_features": SHAPE, "eps": "drawn, as BatchNorm2d's", "momentum": "drawn, as BatchNorm2d's",
            "affine": "drawn", "bias": "drawn where affine", "track_running_stats": "out of scope: as BatchNorm2d's",
            "device": DEVICE, "dtype": DTYPE},
        "keras.layers.BatchNormalization": {
            **_KERAS_BATCHNORM, "axis": "-1: a matrix's features, a sequence's or a volume's channels (torch's dim 1)"},
    },
    "layernorm": {
        "torch.nn.LayerNorm": {
            "normalized_shape": "the drawn input's last axis, or for tokens its last two",
            "eps": "drawn: torch's default, 1e-5, 1e-3 or 1e-6 (layernorm_epsilon keeps the defaults)",
            "elementwise_affine": "drawn (affine)", "bias": "drawn where affine: a scale without an offset",
            "device": DEVICE, "dtype": DTYPE},
        "keras.layers.LayerNormalization": {**_KERAS_NORM, "axis": "-1, or [-2, -1] as torch's normalized_shape"},
    },
    "rmsnorm": {
        "torch.nn.RMSNorm": {
            "normalized_shape": "the drawn input's last axis, or for tokens its last two",
            "eps": "drawn: torch's default (the input type's machine epsilon), 1e-6, 1e-5 or 1e-3 (rmsnorm_epsilon "
                   "keeps the defaults)",
            "elementwise_affine": "True: Keras's RMSNormalization always holds a scale", "device": DEVICE, "dtype": DTYPE},
        "keras.layers.RMSNormalization": {"axis": "-1, or [-2, -1] as torch's normalized_shape",
                                          "epsilon": "torch's eps (the published case: Keras's default)"},
    },
    "groupnorm": {
        "torch.nn.GroupNorm": {
            "num_groups": "drawn: 1 to 4", "num_channels": SHAPE,
            "eps": "drawn: torch's default, 1e-5, 1e-3 or 1e-6 (groupnorm_epsilon keeps the defaults)",
            "affine": "drawn", "bias": "drawn where affine: a scale without an offset", "device": DEVICE,
            "dtype": DTYPE},
        "keras.layers.GroupNormalization": {**_KERAS_NORM, "groups": "torch's num_groups",
                                            "axis": "-1, or 1 for a channels-first case"},
    },
    "maxpool": {
        "torch.nn.MaxPool2d": {
            "kernel_size": "drawn, as Keras's pool_size", "stride": "drawn, as Keras's strides",
            "padding": "Keras's same: torch's where symmetric, else -inf padding before", "dilation": "out of "
            "scope: Keras pools have none", "return_indices": "irrelevant: the same maxima",
            "ceil_mode": "out of scope: Keras pools floor, or pad by `same`"},
        "keras.layers.MaxPooling2D": _KERAS_POOL,
    },
    "avgpool": {
        "torch.nn.AvgPool2d": {
            "kernel_size": "drawn, as Keras's pool_size", "stride": "drawn, as Keras's strides",
            "padding": "Keras's same: torch's where symmetric, else the zero-padded mean over each window's share "
            "of inputs", "ceil_mode": "out of scope: Keras pools floor, or pad by `same`",
            "count_include_pad": "False, as Keras's same; True in avgpool_same's published case",
            "divisor_override": "out of scope: Keras divides by the window's inputs"},
        "keras.layers.AveragePooling2D": _KERAS_POOL,
    },
    "global_avgpool": {
        "torch.nn.AdaptiveAvgPool2d": {"output_size": "1, the global pool; other sizes have no Keras layer"},
        "torch.nn.Flatten": {"start_dim": "1: (N, C)", "end_dim": "-1"},
        "keras.layers.GlobalAveragePooling2D": {"data_format": DATA_FORMAT, "keepdims": "drawn"},
    },
    "dense": {
        "torch.nn.Linear": {"in_features": SHAPE, "out_features": "drawn (units)", "bias": "drawn", "device": DEVICE,
                            "dtype": DTYPE},
        "keras.layers.Dense": {
            "units": "drawn", "kernel_initializer": INITIALIZER, "kernel_regularizer": REGULARIZER,
            "kernel_constraint": CONSTRAINT, "lora_rank": "out of scope: fine-tuning adapters, off by default",
            "lora_alpha": "out of scope: as lora_rank", "quantization_config": "out of scope: int8/float8 "
            "quantized kernels, which torch's Linear does not have", **_KERAS_WEIGHTED},
    },
    "flatten": {
        "torch.nn.Flatten": {"start_dim": "1: every axis but the batch", "end_dim": "-1"},
        "keras.layers.Flatten": {"data_format": "drawn (flatten): Keras moves a channels_first input's channels last "
                                                "before flattening; channels_last in flatten_dense, the order its Dense "
                                                "kernel is reordered for"},
    },
    "cropping2d": {
        "keras.layers.Cropping2D": {"cropping": "drawn: 0 to 2 on each side independently, one row and column left "
                                                "at least (torch: a slice)", "data_format": DATA_FORMAT},
    },
    "upsampling2d": {
        "torch.nn.Upsample": {"size": "out of scope: UpSampling2D takes factors (resize: sizes)",
                              "scale_factor": "drawn: 1 to 3 per axis", "mode": "drawn: nearest or bilinear",
                              "align_corners": "False: Keras's half-pixel rule (torch's True has no Keras twin)",
                              "recompute_scale_factor": "out of scope: whole factors give whole sizes"},
        "keras.layers.UpSampling2D": {"size": "drawn, as torch's scale_factor", "data_format": DATA_FORMAT,
                                      "interpolation": "drawn: nearest or bilinear (bicubic, lanczos: torch's "
                                                       "bicubic weighs with a = -0.75, TensorFlow's with -0.5)"},
    },
    "resize": {
        "torch.nn.functional.interpolate": {
            "input": SHAPE, "size": "drawn: 1 to 12 per axis, up or down", "scale_factor": "out of scope: size given",
            "mode": "drawn: nearest-exact (nearest: resize_nearest_pixel_centers) or bilinear",
            "align_corners": "False: Keras's half-pixel rule", "recompute_scale_factor": "out of scope: size given",
            "antialias": "False, Keras's default"},
        "keras.layers.Resizing": {
            "height": "drawn, as torch's size", "width": "drawn, never a whole multiple of the input's (where the "
            "nearest-neighbour rules part)", "interpolation": "drawn: nearest or bilinear (bicubic, lanczos, area: "
            "torch's bicubic weighs with a = -0.75, TensorFlow's with -0.5)",
            "crop_to_aspect_ratio": "out of scope: False; a crop before the resize",
            "pad_to_aspect_ratio": "out of scope: False; a pad before the resize",
            "fill_mode": "out of scope: only with pad_to_aspect_ratio", "fill_value": "out of scope: as fill_mode",
            "antialias": "False, its default (torch's too)", "data_format": DATA_FORMAT},
    },
    "zeropadding": {
        "torch.nn.ZeroPad2d": {"padding": "drawn: 0 to 2 on each side independently"},
        "keras.layers.ZeroPadding2D": {"padding": "drawn, as torch's", "data_format": DATA_FORMAT},
    },
    "relu": {
        "torch.nn.ReLU": {"inplace": INPLACE},
        "keras.layers.ReLU": {"max_value": "out of scope: None; torch's ReLU6 and Hardtanh have no Keras twin here",
                              "negative_slope": "out of scope: 0; LeakyReLU is its own layer",
                              "threshold": "out of scope: 0; torch's Threshold is its own layer"},
    },
    "softmax": {
        "torch.nn.Softmax": {"dim": "drawn: an image's channels or a spatial axis, a matrix's last axis"},
        "keras.layers.Softmax": {"axis": "drawn, as torch's dim in Keras's axis order"},
    },
    "log_softmax": {
        "torch.nn.LogSoftmax": {"dim": "drawn: an image's channels or a spatial axis, a matrix's last axis"},
        "keras.layers.Activation": {"activation": "keras.activations.log_softmax"},
        "keras.activations.log_softmax": {"x": "the block's input", "axis": "drawn, as torch's dim in Keras's axis order"},
    },
    "leaky_relu": {
        "torch.nn.LeakyReLU": {"negative_slope": "drawn: 0.01, 0.1, 0.2 or 0.3; each side's default in the published "
                               "case (leaky_relu_negative_slope)", "inplace": INPLACE},
        "keras.layers.LeakyReLU": {"negative_slope": "drawn, as torch's"},
    },
    "prelu": {
        "torch.nn.PReLU": {"num_parameters": "drawn: one slope per channel or one for all",
                           "init": "irrelevant: the slopes are drawn from -0.5 to 0.5 and copied over (torch's initial "
                                   "0.25, Keras's 0)", "device": DEVICE, "dtype": DTYPE},
        "keras.layers.PReLU": {"alpha_initializer": INITIALIZER, "alpha_regularizer": REGULARIZER,
                               "alpha_constraint": CONSTRAINT,
                               "shared_axes": "drawn with torch's num_parameters: the spatial axes, or every axis"},
    },
    "elu": {
        "torch.nn.ELU": {"alpha": "drawn: 1, 0.5 or 2", "inplace": INPLACE},
        "keras.layers.ELU": {"alpha": "drawn, as torch's"},
    },
    "gelu": {
        "torch.nn.GELU": {"approximate": "drawn: 'none' or 'tanh'; the default ('none') in the published case"},
        "keras.layers.Activation": {"activation": _ACTIVATION_FUNCTION},
        "keras.activations.gelu": {"x": "the block's input", "approximate": "drawn, as torch's"},
        "keras.ops.gelu": {"x": "the block's input", "approximate": "its default (True) in the published case "
                           "(gelu_ops_tanh_default)"},
    },
    **{block: {torch_class: {"inplace": INPLACE} if block in _INPLACE else {},
               "keras.layers.Activation": {"activation": _ACTIVATION_FUNCTION},
               f"keras.activations.{function}": {"x": "the block's input"}}
       for block, torch_class, function in (
           ("selu", "torch.nn.SELU", "selu"), ("silu", "torch.nn.SiLU", "silu"), ("mish", "torch.nn.Mish", "mish"),
           ("softsign", "torch.nn.Softsign", "softsign"), ("tanh", "torch.nn.Tanh", "tanh"),
           ("sigmoid", "torch.nn.Sigmoid", "sigmoid"), ("relu6", "torch.nn.ReLU6", "relu6"),
           ("hard_sigmoid", "torch.nn.Hardsigmoid", "hard_sigmoid"),
           ("hard_swish", "torch.nn.Hardswish", "hard_silu"))},
    "softplus": {
        "torch.nn.Softplus": {"beta": "its default, 1: Keras's softplus has none",
                              "threshold": "its default, 20: above it torch returns the input (Keras's softplus "
                                           "computes log1p(exp(x)), equal in float32 there)"},
        "keras.layers.Activation": {"activation": _ACTIVATION_FUNCTION},
        "keras.activations.softplus": {"x": "the block's input"},
    },
    "dropout": {
        "torch.nn.Dropout": {"p": "drawn: 0 to 0.9 at inference, 0 in training", "inplace": INPLACE},
        "keras.layers.Dropout": {"rate": "drawn, as torch's p", "noise_shape": "out of scope: masks are random on "
                                 "each side, so only rate 0 or inference compares",
                                 "seed": "out of scope: as noise_shape"},
    },
    "concatenate": {"keras.layers.Concatenate": {"axis": "-1, the channels (torch's dim 1)"}},
    "add": {"keras.layers.Add": {}},
    "cross_entropy": {
        "torch.nn.functional.cross_entropy": {**_TORCH_CROSS_ENTROPY, "label_smoothing": "0 (cross_entropy_smoothing "
                                              "draws it)"},
        "keras.losses.sparse_categorical_crossentropy": {
            "y_true": "labels drawn from the seed", "y_pred": "the drawn logits, or their softmax",
            "from_logits": "True (cross_entropy_logits), False on a softmax (cross_entropy_softmax)",
            "ignore_class": "out of scope: every label is a class", "axis": "-1, the classes"},
    },
    "cross_entropy_smoothing": {
        "torch.nn.functional.cross_entropy": {**_TORCH_CROSS_ENTROPY, "label_smoothing": "drawn: 0, 0.1 or 0.2"},
        "keras.losses.categorical_crossentropy": {
            "y_true": "the labels one-hot", "y_pred": "the drawn logits", "from_logits": "True",
            "label_smoothing": "as torch's", "axis": "-1, the classes"},
    },
    "binary_cross_entropy": {
        "torch.nn.functional.binary_cross_entropy_with_logits": {
            "input": "the drawn logits", "target": "drawn from the seed: in [0, 1] or 0 and 1, smoothed as Keras smooths "
            "(torch has no label_smoothing)", "weight": "out of scope: None", "size_average": "deprecated: reduction",
            "reduce": "deprecated: reduction", "reduction": "none, then each row's mean, as Keras's axis=-1",
            "pos_weight": "out of scope: None (Keras has none)"},
        "keras.losses.binary_crossentropy": {
            "y_true": "as torch's target, before smoothing", "y_pred": "the drawn logits", "from_logits": "True",
            "label_smoothing": "drawn: 0, 0.1 or 0.2", "axis": "-1"},
    },
    "kl_divergence": {
        "torch.nn.functional.kl_div": {
            "input": "log_softmax of the drawn logits", "target": "a distribution drawn from the seed",
            "size_average": "deprecated: reduction", "reduce": "deprecated: reduction",
            "reduction": "none, then each row's sum, as Keras's", "log_target": "False: Keras's y_true is a distribution"},
        "keras.losses.kl_divergence": {"y_true": "as torch's target", "y_pred": "softmax of the drawn logits"},
    },
    "mse": {
        "torch.nn.functional.mse_loss": {**_REGRESSION_LOSS, "weight": "out of scope: None (Keras's function has none)"},
        "keras.losses.mean_squared_error": _KERAS_REGRESSION_LOSS,
    },
    "mae": {
        "torch.nn.functional.l1_loss": {**_REGRESSION_LOSS, "weight": "out of scope: None (Keras's function has none)"},
        "keras.losses.mean_absolute_error": {**_KERAS_REGRESSION_LOSS, "y_pred": "the drawn inputs, a quarter of them "
                                             "on their targets"},
    },
    "huber": {
        "torch.nn.functional.huber_loss": {**_REGRESSION_LOSS, "delta": "drawn: 0.1, 1 or 5",
                                           "weight": "out of scope: None (Keras's function has none)"},
        "keras.losses.huber": {**_KERAS_REGRESSION_LOSS, "delta": "as torch's"},
    },
    "smooth_l1": {
        "torch.nn.functional.smooth_l1_loss": {**_REGRESSION_LOSS, "beta": "drawn: 0.1, 0.5 or 5 (never 1, where it is "
                                               "Huber's loss)"},
        "keras.losses.huber": {**_KERAS_REGRESSION_LOSS, "delta": "torch's beta"},
    },
}

# Blocks of the registry -> the tables of the layers they are made of (their own arguments are fixed by the
# architecture the block comes from, and drawn in those layers' own entries).
COMPOSED: dict[str, tuple[str, ...]] = {
    "conv2d_same_stride2": ("conv2d", "zeropadding"),
    "flatten_dense": ("flatten", "dense"),
    "batchnorm_nd_eval": ("batchnorm_nd",), "batchnorm_nd_train": ("batchnorm_nd",),
    "batchnorm_eval": ("batchnorm",), "batchnorm_train": ("batchnorm",), "batchnorm_train_offset": ("batchnorm",),
    "maxpool_same": ("maxpool",), "avgpool_same": ("avgpool",),
    "dropout_inference": ("dropout",), "dropout_train_p0": ("dropout",),
    "vgg_conv_block": ("conv2d", "relu", "maxpool"),
    "resnet_bottleneck_v1": ("conv2d", "batchnorm", "relu", "zeropadding", "add"),
    "resnet_bottleneck_v1_5": ("conv2d", "batchnorm", "relu", "zeropadding", "add"),
    "densenet_dense_layer": ("batchnorm", "relu", "conv2d", "concatenate"),
    "densenet_transition": ("batchnorm", "relu", "conv2d", "avgpool"),
    "cross_entropy_logits": ("cross_entropy",), "cross_entropy_softmax": ("cross_entropy", "softmax"),
}


def tables_of(block: str) -> tuple[str, ...]:
    """The ARGUMENTS entries that cover a registry block's layers."""
    return COMPOSED.get(block, (block,))
