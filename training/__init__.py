"""Training: training sets from outcomes, the synthetic generator, the ranker, evaluation, MLflow."""
