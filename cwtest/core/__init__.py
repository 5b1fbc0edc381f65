"""Plain values and maths, importing numpy and the standard library only: the one user error, the errors every
suite measures, the records adapters and harnesses hand each other, weight layouts, the training loop, accuracy,
Adam's arithmetic, and the sinks progress and crash notes go through."""
