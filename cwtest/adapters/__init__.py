"""The framework adapters, one subpackage per framework with the same module names: `adapter` (the roles it
implements, cwtest.frameworks.roles), `models` (the architectures' builders by key), `blocks` (the layer and
optimizer registries' builders by key) and `cases` (a layer-suite case's run). Leaves beside the interface:
each imports the interface and what lies below it, and is loaded by name (cwtest.frameworks.ADAPTERS), never
imported by the rest of cwtest."""
