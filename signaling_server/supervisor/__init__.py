"""The supervisor floor: the live wall (wall.py) and what a supervisor may do (desk.py)."""

from .desk import SupervisorDesk, observe_room
from .wall import Wall

__all__ = ["SupervisorDesk", "Wall", "observe_room"]
