"""Models: the clef model (Keras 3 on JAX), token sequences, training, held-out evaluation and
the n-gram baselines. Keras is imported only when a model is built or loaded."""
