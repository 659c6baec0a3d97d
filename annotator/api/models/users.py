"""Users: accounts and roles, managed by admins."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from annotations.catalogue.users import Role
from annotator.api.contract import invalid, refuse

#: the role names; Role.parse checks a name sent, with its own message
RoleName = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "enum": [role.name for role in Role],
            "description": "Each role can do what the ones before it can.",
        }
    ),
]
PASSWORD: dict[str, Any] = {"format": "password"}


class User(BaseModel):
    """The account."""

    name: str
    role: RoleName
    active: bool
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class UserList(BaseModel):
    """The users."""

    users: list[User]


class UserInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    role: RoleName
    password: str = Field(min_length=1, json_schema_extra=PASSWORD)


class UserChange(BaseModel):
    """Only the members sent change (`model_fields_set`); none of them may be null."""

    model_config = ConfigDict(extra="forbid")

    role: RoleName | None = None
    active: Annotated[StrictBool | None, refuse("'active' must be true or false")] = Field(
        default=None,
        description="false switches the account off, ends its browser sessions and revokes "
        "its tokens. The last active admin cannot be switched off.",
        json_schema_extra={"type": "boolean"},
    )
    password: str | None = Field(
        default=None,
        min_length=1,
        description="A new password; the user's browser sessions end.",
        json_schema_extra=PASSWORD,
    )

    @field_validator("role", "active", "password", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            name = info.field_name
            raise invalid(
                f"'{name}' must be true or false" if name == "active" else f"'{name}' is required"
            )
        return value
