"""What a run reads: the trial tables, the selection of trials, CIFAR-10, and the training
budgets."""
