from django import template

from desk.queries import desk_for, has_editorial_role

register = template.Library()


@register.simple_tag
def editors_desk(user):
    """The desk for `user`, or None for staff without an editorial role."""
    return desk_for(user) if has_editorial_role(user) else None
