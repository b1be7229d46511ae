"""The strategy factory: sweep (optuna storage, batched samplers, pluggable evaluator), shortlist,
materialise, replay, validate, parity gate, promote (factory-and-audits.md §2, §9; DECISIONS.md D29,
D36, D49, D53.11, D53.15).

Modules: ``profiles`` (smoke/daily/weekly), ``space`` (axis-index encoding <-> sweep codes),
``samplers`` (batched tpe/cmaes/qmc/random + stock optuna TPE), ``storage`` (optuna journal/RDB
record of finished trials), ``evaluators`` (Evaluator protocol, RefEvaluator, SimEvaluator = gpu_sim, ToyEvaluator),
``sweep`` (the resumable loop), ``materialise`` (zero-mutation YAML + config_id), ``validate``
(walk-forward folds, slippage stress, score_v1), ``gate`` (config + trade parity), ``promote``
(shortlist -> roles -> promoted_configs + manifest), ``roles`` (load a promoted role), ``run_dir``,
``cli`` (argparse subcommands sweep / promote / factory).
"""
