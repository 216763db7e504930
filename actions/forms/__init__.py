"""One validation class per form; `complete()` on each does the job once the form is filled."""
