{#- Credentials created, rotated or deleted: Twilio API keys, auth tokens (promoted = rotated),
    passwords and SIP credentials (by Monitor resource type), Telnyx API keys (by `record_type` where it names one, or by the changed
    fields: Telnyx documents no resource type). One finding per event.
    Tune: `credential_resource_types`, `telnyx_credential_fields`. -#}
{%- set types = var('credential_resource_types') -%}

select
    activity_key as finding_key,
    occurred_at as detected_at,
    provider,
    account_id,
    actor_id,
    actor_type,
    source_ip,
    interface,
    resource_type,
    resource_id,
    case
        when activity <> 'other' then activity
        when event_type like '%.promoted' then 'rotated'
        else 'other'
    end as credential_action,
    event_type,
    message
from {{ ref('activity') }}
where category = 'account_change'
  and (
      lower(coalesce(resource_type, split_part(event_type, '.', 1))) in (
          {%- for type in types %}'{{ type | lower }}'{{ ", " if not loop.last }}{% endfor -%}
      )
      or (provider = 'telnyx' and {{ changes_touch('changes', var('telnyx_credential_fields')) }})
  )
