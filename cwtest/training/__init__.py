"""The trial suite's harness, paired training: a trial's plan at a budget, divergence and step parity (protocol),
and training a pair (paired). The loop both adapters run is cwtest.core.training_loop; the knobs are
cwtest.registries.knobs."""
