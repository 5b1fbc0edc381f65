"""Transformer pairs written by others in both frameworks, their weights carried by Keras Hub's converter.

Each entry is a Hugging Face `transformers` model (torch) at a small configuration from a fixed seed, saved with
`save_pretrained` to a local folder, and the Keras Hub backbone that `from_preset` reads from that folder: Keras Hub's
own converter of Hugging Face checkpoints moves the weights, a map neither side's authors wrote for cwtest, and
nothing is downloaded. The models suite runs them (suites/models/test_converted.py), selected by their names or
`zoo` in --crossedwires-arch. Builders live with their framework (cwtest.adapters.torch.converted,
cwtest.adapters.keras.converted); this module imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

VOCABULARY = 100  # token ids are drawn below it
# The standard deviation of the random weights. Hugging Face's 0.02 (a trained model's scale) leaves attention
# scores of a random model about 0.01 apart: every softmax uniform, and a query or key read wrongly by a converter
# invisible (a query kernel 1% off moved BERT's output 4e-7 relative, under fp32 rounding). At 0.2 the scores spread
# by about 1 and the same fault moves it past the tolerance (tests/test_zoo.py).
ATTENDING = 0.2


@dataclass(frozen=True)
class ConvertedDifference:
    """A reason a converted pair is not the same function: its published case is an xfail naming it, and its
    harmonized twin, the torch model built with `harmonized` in its configuration, must pass."""

    name: str
    cause: str
    harmonized: dict


@dataclass(frozen=True)
class Converted:
    name: str
    torch_class: str  # transformers.<torch_class>(transformers.<config_class>(**config))
    config_class: str
    keras_class: str  # keras_hub.models.<keras_class>.from_preset(folder)
    # The Keras Hub backbone's inputs besides token ids and padding mask: BERT's segment (token type) ids.
    segments: bool
    keras_output: str | None  # the key of the backbone's output dict that is the sequence output; None: one tensor
    # The token embedding table, whose gradient is compared: torch parameter name, Keras variable path. None for a
    # model of images, whose input's gradient is compared.
    embedding: tuple[str, str] | None
    config: dict = field(default_factory=dict)
    images: bool = False  # takes images (NCHW in torch, NHWC in Keras) instead of token ids
    base: str | None = None  # the torch model's attribute that is the backbone (the converter reads a head's folder)
    # The layer registry's blocks such a model is made of, and the optimizers it trains with (AdamW): what the layer
    # suite runs for it.
    blocks: tuple[str, ...] = ("dense", "layernorm", "gelu", "softmax", "dropout_inference", "add")
    optimizers: tuple[str, ...] = ("adamw",)
    differences: tuple[ConvertedDifference, ...] = ()

    def harmonized(self) -> "Converted":
        """This pair with every difference's harmonization in the torch model's configuration."""
        config = dict(self.config)
        for difference in self.differences:
            config |= difference.harmonized
        return replace(self, config=config, differences=())


CONVERTED = {entry.name: entry for entry in (
    Converted("bert", "BertModel", "BertConfig", "BertBackbone", segments=True, keras_output="sequence_output",
              embedding=("embeddings.word_embeddings.weight", "token_embedding/embeddings"),
              config=dict(vocab_size=VOCABULARY, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=64, max_position_embeddings=64, initializer_range=ATTENDING),
              differences=(ConvertedDifference(
                  "keras_hub_bert_gelu_tanh",
                  "Keras Hub's BertBackbone computes its feed-forward GELU in the tanh form (gelu_approximate, fixed "
                  "in its code) and its converter of Hugging Face checkpoints ignores the config's hidden_act: a "
                  "BERT checkpoint that says 'gelu' (the exact, erf form: bert-base-uncased's) becomes another "
                  "function (Keras Hub 0.32.0, transformers 5.25.0; docs/defects/keras_hub_converter_ignores_config.md)",
                  {"hidden_act": "gelu_pytorch_tanh"}),)),
    Converted("vit", "ViTForImageClassification", "ViTConfig", "ViTBackbone", segments=False, keras_output=None,
              embedding=None, images=True, base="vit",
              config=dict(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=64, num_labels=10, initializer_range=ATTENDING),
              differences=(ConvertedDifference(
                  "keras_hub_vit_layer_norm_epsilon",
                  "Keras Hub's converter of Hugging Face ViT checkpoints does not read layer_norm_eps: the backbone "
                  "keeps its own 1e-6 where Hugging Face's ViTConfig says 1e-12 (Keras Hub 0.32.0, transformers "
                  "5.25.0; docs/defects/keras_hub_converter_ignores_config.md)",
                  {"layer_norm_eps": 1e-6}),)),
    Converted("gpt2", "GPT2Model", "GPT2Config", "GPT2Backbone", segments=False, keras_output=None,
              embedding=("wte.weight", "token_embedding/embeddings"),
              # GPT-2's begin and end token (50256 in its own vocabulary) inside this one's
              config=dict(vocab_size=VOCABULARY, n_positions=32, n_embd=32, n_layer=2, n_head=4,
                          bos_token_id=VOCABULARY - 1, eos_token_id=VOCABULARY - 1, initializer_range=ATTENDING)),
)}
