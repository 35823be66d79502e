"""The examples each coopsim command's --help ends with."""

EXAMPLES = {
    "compile": """
        examples:
          coopsim compile                  # once per machine: later processes load them
        the first run, sweep or test session compiles them anyway (numba, on two cores
        when there are two); with NUMBA_CACHE_DIR shared by a cluster's nodes, run it on
        one node of each CPU type before starting the workers, which then only load.
        """,
    "facts": """
        examples:
          coopsim facts                    # 5 replications, table + results/facts/facts.png
          coopsim facts --reps 10 --workers 2 --out results/facts10
        """,
    "calibrate": """
        examples:
          coopsim calibrate --workers 2                  # 35 + 25 points x 2 seeds (120 runs)
          coopsim calibrate --wave1 35 --wave2 25 --reps 2 --workers 2 --install
        history matching against the calibrated stylized facts (priors in
        sim/data/calibration/priors.toml); writes priors.toml, accepted.csv (the
        accepted parameter vectors with their simulated facts), runs.csv,
        history_matching.toml (method, variances, waves, seeds, commit) and
        history_matching.png to results/calibration/; --install also writes the data
        files to sim/data/calibration/, where `compare --parameter-uncertainty` draws
        from. An interrupted calibration resumes when run again with the same --out.
        """,
    "warmup": """
        examples:
          coopsim warmup baseline --workers 2          # 5 replications of 10 years
          coopsim warmup scenarios/nsc_law.toml --years 15 --reps 8 --out results/wu
        prints each series' MSER-5 cut, the warm-up and the line for the scenario's
        [run] section; writes warmup.png, warmup_series.csv and warmup_mser.csv to
        results/warmup_<scenario>/. Exit 1 when a series shows no steady state.
        """,
    "plot": """
        examples:
          coopsim plot results/compare_packages
          coopsim plot results/mr_seed1 --out figures/
        """,
    "explore": """
        examples:
          coopsim explore                          # baseline
          coopsim explore scenarios/nsc_law.toml --port 8765
        needs the viz extra: uv sync --extra viz
        """,
    "run": """
        examples:
          coopsim run scenarios/baseline.toml
          coopsim run baseline --seed 3 --years 2 --json
          coopsim run baseline --warmup-years 1.5      # 1.5 years left out of the outcomes
          coopsim run scenarios/mutual_recognition.toml --out results/mr_seed1
        """,
    "validate": """
        examples:
          coopsim validate scenarios/*.toml
          coopsim validate experiments/*.toml     # every field, scenario and outcome name
        """,
    "scenarios": """
        example:
          coopsim scenarios
        """,
    "compare": """
        examples:
          coopsim compare                      # baseline vs each reform package
          coopsim compare nsc_law mutual_recognition --reps 20
          coopsim compare scenarios/my_reform.toml --reference baseline --out results/mine
          coopsim compare nsc_law --reps 20 --parameter-uncertainty   # 10 draws x 2 seeds
        the table of paired differences (95% CI, common random numbers) is printed and
        written with a forest plot to results/<name>/comparison.csv and comparison.png;
        with --parameter-uncertainty the calibrated parameters of each replication are
        drawn from the history-matching accepted set, the CI covers parameters and chance,
        and two columns say how much of it comes from each
        """,
    "robust": """
        examples:
          coopsim robust                       # experiments/robust_packages.toml
          coopsim robust --years 1 --reps 4 --worlds baseline budget_cuts
          coopsim robust --threshold "completion_rate>=0.6" --threshold "mean_trust>0.5"
          coopsim robust --calibrated-draws 3  # each world x 3 calibrated parameter draws
        runs each reform package in each world (and each world without reform) with the
        same seeds; prints the minimax-regret ranking (maximum regret, Savage) per outcome
        and satisficing (domain criterion, Starr: share of worlds meeting every
        threshold); writes robust_effects.csv (effect and 95% CI per world), robust_regret.csv,
        robust_max_regret.csv, robust_satisficing.csv, robust_satisficing_worlds.csv and
        robust_heatmap.png to results/<name>/. The same command resumes an interrupted run.
        """,
    "sweep": """
        examples:
          coopsim sweep experiments/sweep_capacity.toml --workers 2
          coopsim sweep sobol_baseline --dask-local
          coopsim sweep experiments/morris_baseline.toml --scheduler tcp://scheduler-host:8786
          coopsim sweep sweep_capacity --no-resume     # start over (earlier results moved aside)
          coopsim sweep sobol_baseline --sample-size 256   # tighter Sobol intervals
        an interrupted sweep resumes where it stopped when run again
        """,
    "analyze": """
        examples:
          coopsim analyze results/sobol_baseline
          coopsim analyze results/compare_packages --outcomes completion_rate 'median_*'
          coopsim analyze results/compare_packages --format latex > table.tex
        writes into RESULTS/analysis/ (never over what compare or sweep wrote)
        """,
    "describe": """
        examples:
          coopsim describe baseline
          coopsim describe scenarios/nsc_law.toml
        """,
}
