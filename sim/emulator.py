"""The Gaussian-process emulator of the model's mean output, and the seeded designs.

An :class:`Emulator` predicts a calibrated fact's mean and its variance at untried
parameter points (scikit-learn), so that history matching can screen a large sample of
candidates without running the model at each.
"""

from __future__ import annotations

import numpy as np


# ======================================================================== emulator
class Emulator:
    """A Gaussian-process emulator of one model output over the unit cube.

    A linear trend in the inputs (least squares) plus a zero-mean GP on its residuals,
    with kernel ``C * Matern(nu=2.5, one length scale per input) + White``. The known
    Monte Carlo noise of each training output (a mean of seeds), when given, is added
    to the diagonal (``alpha``); the white term then takes only what is left (lack of
    fit). Length scales are at least 0.2 of the unit cube, so that the GP does not
    chase noise between a few dozen points. Outputs are standardised before fitting.
    :meth:`predict` returns the mean and the variance of the *mean* model output (the
    white noise left out); the trend coefficients' uncertainty is not added (small
    next to the other terms at the sizes used).

    Args:
        seed: Seed of the optimiser's restarts.
        restarts: Restarts of the hyperparameter optimiser.
    """

    def __init__(self, seed: int = 0, restarts: int = 3):
        self.seed = seed
        self.restarts = restarts

    def fit(self, x: np.ndarray, y: np.ndarray, noise: np.ndarray | None = None) -> Emulator:
        """Fit on inputs ``x`` (n x d, in [0, 1]) and outputs ``y`` (n).

        Args:
            x: Inputs on the unit cube.
            y: Outputs (means over seeds).
            noise: Known variance of each output (run variance / seeds), or None.
        """
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n, d = x.shape
        design = np.column_stack([np.ones(n), x])
        self.beta = np.linalg.lstsq(design, y, rcond=None)[0]
        residual = y - design @ self.beta
        self.scale = float(residual.std()) or 1.0
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
            length_scale=np.full(d, 0.5), length_scale_bounds=(0.2, 50.0), nu=2.5
        ) + WhiteKernel(0.1, (1e-6, 1.5))
        alpha = 1e-10 if noise is None else np.asarray(noise, dtype=float) / self.scale**2
        self.alpha = np.broadcast_to(alpha, (n,)).astype(float)
        self.gp = GaussianProcessRegressor(
            kernel=kernel,
            alpha=self.alpha,
            n_restarts_optimizer=self.restarts,
            random_state=self.seed,
            normalize_y=False,
        )
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            # A length scale at its bound (an input the output does not depend on) is
            # an answer, not a failure.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(x, residual / self.scale)
        self.x_train = x
        self.y_train = y
        return self

    @property
    def noise_var(self) -> float:
        """The noise variance of a training output (white term + mean known noise), in units."""
        return (float(self.gp.kernel_.k2.noise_level) + float(self.alpha.mean())) * self.scale**2

    def predict(self, x: np.ndarray, chunk: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the mean model output at ``x`` (n x d, in [0, 1])."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        means, variances = [], []
        noise = float(self.gp.kernel_.k2.noise_level)
        for start in range(0, len(x), chunk):
            part = x[start : start + chunk]
            mean, sd = self.gp.predict(part, return_std=True)
            trend = np.column_stack([np.ones(len(part)), part]) @ self.beta
            means.append(trend + self.scale * mean)
            variances.append(self.scale**2 * np.maximum(sd**2 - noise, 0.0))
        return np.concatenate(means), np.concatenate(variances)

    def loo_errors(self) -> np.ndarray:
        """Leave-one-out standardised errors of the training outputs (hyperparameters fixed).

        Closed form for a GP (Rasmussen & Williams 2006, eq. 5.12): the residual of
        point ``i`` predicted from the others is ``[K^-1 y]_i / [K^-1]_ii`` with variance
        ``1 / [K^-1]_ii``. About 99% should lie within +-3 for a valid emulator.
        """
        k = self.gp.kernel_(self.x_train) + np.diag(self.alpha)
        design = np.column_stack([np.ones(len(self.x_train)), self.x_train])
        r = (self.y_train - design @ self.beta) / self.scale
        inv = np.linalg.inv(k)
        return (inv @ r) / np.sqrt(np.diag(inv))


# ======================================================================== designs
def latin_hypercube(n: int, d: int, seed: int) -> np.ndarray:
    """A seeded Latin hypercube of ``n`` points in [0, 1]^d (scipy.stats.qmc)."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(n)


def random_subset(n_points: int, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` of ``n_points`` points drawn at random without replacement (seeded).

    The wave-2 points are a random sample of the non-implausible candidates, which are
    themselves a Latin hypercube over the priors: the accepted set is then a sample of
    the prior restricted to the non-implausible space, so that drawing from it
    (``compare --parameter-uncertainty``) weighs that space evenly. A space-filling
    (maximin) choice would crowd the edges of the space and overweight them.
    """
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_points, size=min(n, n_points), replace=False))


def run_seeds(seed: int, wave: int, n: int) -> list[int]:
    """``n`` independent 32-bit run seeds of a wave (a different stream per wave)."""
    state = np.random.SeedSequence([seed, wave]).generate_state(n, dtype=np.uint32)
    return [int(s) for s in state]
