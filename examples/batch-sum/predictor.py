"""Sums the numbers of each batch of a job and prints the total. Items are numbers, or objects
whose `field` (from the config; "value" by default) is a number; anything else counts as 0.

A BatchAPI runs it: each worker makes one BatchPredictor and calls predict() with one batch
(a list of items) at a time; on_job_complete() runs once, after the job's last batch.
"""


class BatchPredictor:
    def __init__(self, config, job_spec):
        self.field = config.get("field", "value")
        self.job_id = job_spec["job_id"]
        self.total = 0

    def number(self, item):
        if isinstance(item, dict):
            item = item.get(self.field, 0)
        return item if isinstance(item, (int, float)) and not isinstance(item, bool) else 0

    def predict(self, payload, batch_id):
        batch_sum = sum(self.number(item) for item in payload)
        self.total += batch_sum  # this worker's share only: batches are spread over workers
        print(f"job {self.job_id} batch {batch_id}: {len(payload)} items, sum {batch_sum}",
              flush=True)

    def on_job_complete(self):
        print(f"job {self.job_id} complete", flush=True)
