"""Builds the model this example serves: an XGBoost 3-class classifier (multi:softprob,
20 trees of depth 3, seed 0) trained on a synthetic 8-feature make_classification data set.
Writes the booster as JSON to DIR/model.json; DIR defaults to this folder's model/.
"""
import argparse
import pathlib

import xgboost
from sklearn.datasets import make_classification

HERE = pathlib.Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "model")
    args = parser.parse_args()
    X, y = make_classification(n_samples=600, n_features=8, n_informative=5, n_classes=3,
                               random_state=0)
    model = xgboost.XGBClassifier(objective="multi:softprob", n_estimators=20, max_depth=3,
                                  random_state=0).fit(X, y)
    path = args.out / "model.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    model.get_booster().save_model(str(path))
    print(f"trained on {len(X)} samples, accuracy {model.score(X, y):.3f} -> {path}")


if __name__ == "__main__":
    main()
