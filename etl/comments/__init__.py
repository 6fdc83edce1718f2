"""The managers' analysis round trip (docs/comments.md): Analys and Åtgärder per goal, written in
the T1/T2 workbook, returned, checked against the archived original and stored as a new package
version; ``store.comments_for_year`` hands them to the verksamhetsberättelse."""
