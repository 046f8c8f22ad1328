"""Progress: stage timings, and the Spark jobs each stage started once a counter is attached."""
from pipelines.io.progress import Progress


def test_stages_record_how_far_the_job_counter_moved():
    jobs = iter([3, 7, 7, 7, 10, 12])  # the counter's readings, in the order the stages take them
    progress = Progress("test", quiet=True)
    progress.count_jobs_with(lambda: next(jobs))
    with progress.stage("read"):
        pass
    with progress.stage("idle"):
        pass
    with progress.stage("read"):  # a stage met twice adds up
        pass
    assert progress.jobs == {"read": 4 + 2, "idle": 0}
    assert set(progress.timings) == {"read", "idle"}


def test_without_a_counter_no_jobs_are_recorded():
    progress = Progress("test", quiet=True)
    with progress.stage("read"):
        pass
    assert progress.jobs == {} and "read" in progress.timings
