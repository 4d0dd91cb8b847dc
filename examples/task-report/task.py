"""Writes a short report of the configuration it was given to stdout (the job's log:
`axon logs task-report JOB_ID`). A TaskAPI runs it: Task() once per job, then
task(config), where config is the spec's definition.config merged with the job's config.
An exception ends the job as `worker_error`, with the error's message.
"""
import json
import platform
import time


class Task:
    def __call__(self, config):
        title = config.get("title", "report")
        print(f"== {title}", flush=True)
        print(f"python {platform.python_version()}, "
              f"at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}", flush=True)
        for key in sorted(config):
            print(f"{key}: {json.dumps(config[key])}", flush=True)
        print(f"== {len(config)} settings", flush=True)
