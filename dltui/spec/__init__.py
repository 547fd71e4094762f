"""The experiment file: typed, validated, never executed. Imports no torch."""

from dltui.spec.errors import Problem, SpecError
from dltui.spec.experiment import Experiment
from dltui.spec.load import load_experiment, parse_experiment

__all__ = ["Experiment", "Problem", "SpecError", "load_experiment", "parse_experiment"]
