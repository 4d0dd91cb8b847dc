"""A keyword sentiment scorer: pure Python, no model file.

POST text/plain (or JSON {"text": ...}) and get back a label and a score in [-1, 1].
"""
import re

POSITIVE = {"good", "great", "excellent", "love", "happy", "wonderful", "fast", "nice", "best"}
NEGATIVE = {"bad", "terrible", "awful", "hate", "sad", "slow", "worst", "broken", "poor"}
NEGATIONS = {"not", "no", "never"}


class PythonPredictor:
    def __init__(self, config):
        self.neutral_band = float(config.get("neutral_band", 0.1))

    def predict(self, payload):
        text = payload.get("text", "") if isinstance(payload, dict) else payload
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        words = re.findall(r"[a-z']+", str(text).lower())
        score, hits = 0, 0
        for i, word in enumerate(words):
            polarity = (word in POSITIVE) - (word in NEGATIVE)
            if polarity and i > 0 and words[i - 1] in NEGATIONS:
                polarity = -polarity
            score += polarity
            hits += polarity != 0
        value = score / hits if hits else 0.0
        label = ("positive" if value > self.neutral_band
                 else "negative" if value < -self.neutral_band else "neutral")
        return {"label": label, "score": round(value, 3), "words": len(words)}
