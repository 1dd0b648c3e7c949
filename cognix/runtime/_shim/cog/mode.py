"""Run modes."""

from enum import Enum


class Mode(Enum):
    PREDICT = "predict"
    TRAIN = "train"
