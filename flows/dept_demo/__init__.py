"""Demo department: the wine classifier, from the bundled dataset to an evaluation report."""
