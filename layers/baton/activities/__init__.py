"""ProcessMaker activities and their assignees."""
