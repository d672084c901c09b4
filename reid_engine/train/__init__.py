"""Training of ReID models: typed configs, methods (baselines and seed-method modules), the loop, checkpoints."""
