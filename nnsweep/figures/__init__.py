"""One job's figures, drawn from plain arrays and tables: shared drawing rules (style),
then one module per figure. Which figures a job draws is nnsweep.job.figures' choice.

The figures of the input square (prediction, decision_boundary, boundary_gif) each take
the data as the same plain arguments (x, y, title, x_test, y_test): a repeated signature,
kept so that a caller passes arrays it has, not a type of this package's to build."""
