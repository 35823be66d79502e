"""The model's unit of time, in one place for the Python code and the kernels alike.

One step of the model is one day, and a simulated year is 365 of them: rates per year
(arrivals, decay, demand growth) become rates per day by this number. The kernels
read it as a constant frozen into their machine code, so this module is part of the
source digest that names their cache (:func:`sim.kernel_cache.source_digest`).
"""

DAYS_PER_YEAR = 365  # one step is one day; a simulated year is 365 of them
