"""Exercise checks (feedback in the notebook) and the instructor's batch grader.

Filled by later issues.
"""


def grade(submissions, out, **options):
    """Grade a class's notebooks into `out`: see `omnilab.grading.batch.grade` (``omnilab grade``)."""
    from omnilab.grading.batch import grade as batch_grade

    return batch_grade(submissions, out, **options)


def summary(out_dir):
    """The pass rate per check and the score distribution of a grading folder, as DataFrames
    (`omnilab.grading.batch.Summary`)."""
    from omnilab.grading.batch import summary as batch_summary

    return batch_summary(out_dir)
