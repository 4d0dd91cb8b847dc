"""Trains the iris classifier the example serves. Run with Debian's Python:

    /usr/bin/python3 examples/iris/train.py

scikit-learn ships the iris data set, so nothing is downloaded.
"""
import pathlib
import pickle

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

HERE = pathlib.Path(__file__).resolve().parent


def main():
    data = load_iris()
    model = LogisticRegression(max_iter=1000).fit(data.data, data.target)
    bundle = {"model": model, "classes": list(data.target_names),
              "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"]}
    with open(HERE / "model.pkl", "wb") as f:
        pickle.dump(bundle, f)
    print(f"trained on {len(data.data)} samples, accuracy {model.score(data.data, data.target):.3f}"
          f" -> {HERE / 'model.pkl'}")


if __name__ == "__main__":
    main()
