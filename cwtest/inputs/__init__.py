"""What a run reads: the trial tables, the selection of trials, the options that name choices, paths it will
write, CIFAR-10, and the training budgets."""
