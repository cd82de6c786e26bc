from django import template

from articles.models import Section

register = template.Library()


@register.simple_tag
def navigation_sections():
    return list(Section.objects.filter(is_in_navigation=True))
