"""The file MLflow logs as the model's code ("models from code"): loading the registered model runs
it and gets a `RankerModel`, with no pickled Python objects involved."""

from mlflow.models import set_model

from matching.model import RankerModel

set_model(RankerModel())
