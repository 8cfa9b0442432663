"""Training: the loop, experiments, evaluation, learning-rate schedules, event fine-tuning."""
