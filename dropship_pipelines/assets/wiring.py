"""What the workflows' jobs share in their wiring.

`WORKFLOW_TAG` names the workflow a run belongs to; the run queue (dagster.yaml, deploy/dagster.yaml,
deploy/helm/values.yaml) limits it to one run per value, so each workflow runs one run at a time.
"""

WORKFLOW_TAG = "dropship/workflow"
