"""Administration of users and teams. Every function is admin-only (or, where it says
so, open to the server's operator from the CLI) and every change is audited.

One module per use case:

- ``base``: ``AdminError`` (a Russian message for an invalid request), the typed results
  (``AdminUser``, ``UserPage``, ``CreatedUser``, ``RoleChange``, ``TeamView``, ``TeamRef``),
  finding a user or a team by id, and the audit entry of a change;
- ``users``: the filtered list, one user, creating a user, changing a role, finding a
  user by email and the admin the CLI acts as;
- ``access``: blocking, unblocking, resetting two-factor, ending a user's sessions;
- ``invitations``: inviting a user and resending the link;
- ``teams``: teams, their director and members, a user's teams.

Results are frozen dataclasses; the UI and the CLI map them to their own shapes. A
non-admin actor gets ``PermissionDenied`` (from ``authz``). Import from here
(``from socstat.services import admin``); the modules are the package's inside.
"""

from socstat.services.admin.access import (
    block_user,
    reset_two_factor,
    revoke_user_sessions,
    unblock_user,
)
from socstat.services.admin.base import (
    AdminError,
    AdminUser,
    CreatedUser,
    RoleChange,
    TeamRef,
    TeamView,
    UserPage,
)
from socstat.services.admin.invitations import invite_user, resend_invitation
from socstat.services.admin.teams import (
    create_team,
    delete_team,
    list_teams,
    rename_team,
    set_team_director,
    set_team_members,
    set_user_teams,
)
from socstat.services.admin.users import (
    MAX_PAGE,
    create_user,
    find_user_id,
    first_active_admin,
    get_user,
    list_users,
    set_role,
)

__all__ = [
    "MAX_PAGE",
    "AdminError",
    "AdminUser",
    "CreatedUser",
    "RoleChange",
    "TeamRef",
    "TeamView",
    "UserPage",
    "block_user",
    "create_team",
    "create_user",
    "delete_team",
    "find_user_id",
    "first_active_admin",
    "get_user",
    "invite_user",
    "list_teams",
    "list_users",
    "rename_team",
    "resend_invitation",
    "reset_two_factor",
    "revoke_user_sessions",
    "set_role",
    "set_team_director",
    "set_team_members",
    "set_user_teams",
    "unblock_user",
]
