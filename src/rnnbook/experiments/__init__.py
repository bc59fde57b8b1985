"""Torch training experiments whose results the chapters read from ``rnnbook/data/``."""
