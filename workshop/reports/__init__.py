"""Results reports: a ballot's or a workshop's frozen results as PDF and DOCX, with charts."""
