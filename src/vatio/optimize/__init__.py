"""Model optimisation before deployment: variants, measurement, Pareto front, recommendation.

Every variant is measured on this machine instead of assumed to help (INT8 is
slower than FP32 on some CPUs and models). Nothing heavy is imported here:
torch and onnxruntime load inside the functions that need them.
"""

from __future__ import annotations
