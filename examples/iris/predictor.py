"""Classifies an iris flower from its four measurements (in centimetres)."""
import pickle


class BadInput(Exception):
    status_code = 400  # Axon answers with this status and the message as {"error": ...}


class PythonPredictor:
    def __init__(self, config):
        with open(config.get("model", "model.pkl"), "rb") as f:
            bundle = pickle.load(f)
        self.model = bundle["model"]
        self.classes = bundle["classes"]
        self.features = bundle["features"]

    def predict(self, payload):
        if not isinstance(payload, dict):
            raise BadInput(f"send a JSON object with {', '.join(self.features)}")
        missing = [f for f in self.features if f not in payload]
        if missing:
            raise BadInput(f"missing field(s): {', '.join(missing)}")
        values = [payload[f] for f in self.features]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise BadInput(f"{', '.join(self.features)} must be numbers")
        probabilities = self.model.predict_proba([values])[0]
        best = int(probabilities.argmax())
        return {"class": self.classes[best],
                "probabilities": dict(zip(self.classes, map(float, probabilities)))}
