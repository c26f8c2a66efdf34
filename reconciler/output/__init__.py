"""What people and machines are shown: plans and runs as text, markdown and JSON; plan files."""
