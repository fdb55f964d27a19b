"""Registration: delegates imported from a spreadsheet, their invitation links and badges."""
