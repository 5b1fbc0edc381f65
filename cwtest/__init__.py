"""cwtest: do deep-learning models behave the same across frameworks and hardware?"""

__version__ = "0.1.0"
