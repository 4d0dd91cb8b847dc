"""Bench scenario: returns the JSON payload it was sent."""


class PythonPredictor:
    def __init__(self, config):
        pass

    def predict(self, payload):
        return payload
