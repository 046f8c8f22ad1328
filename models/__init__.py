"""Model factory, evaluation metrics, promotion rules and explanations (pure code, no I/O)."""
