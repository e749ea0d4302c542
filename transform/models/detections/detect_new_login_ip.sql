{#- A Console login (Monitor `user-session.created`) from a source IP that actor was not seen
    using in the previous `new_login_ip_lookback_days` days, while it was seen from other IPs:
    an actor with no history in that period is a baseline, not a finding.
    Tune: `login_event_types`, `new_login_ip_lookback_days`. -#}
{%- set lookback = var('new_login_ip_lookback_days') -%}

with logins as (
    select *
    from {{ ref('activity') }}
    where event_type in ({%- for type in var('login_event_types') %}'{{ type }}'{{ ", " if not loop.last }}{% endfor -%})
      and actor_id is not null
      and source_ip is not null
),

seen as (
    select actor_id, source_ip, occurred_at
    from {{ ref('activity') }}
    where actor_id is not null and source_ip is not null
)

select
    logins.activity_key as finding_key,
    logins.occurred_at as detected_at,
    logins.provider,
    logins.account_id,
    logins.actor_id,
    logins.actor_type,
    logins.source_ip,
    logins.interface,
    logins.message
from logins
where exists (
    select 1 from seen
    where seen.actor_id = logins.actor_id
      and seen.occurred_at >= {{ dbt.dateadd('day', -lookback, 'logins.occurred_at') }}
      and seen.occurred_at < logins.occurred_at
)
and not exists (
    select 1 from seen
    where seen.actor_id = logins.actor_id
      and seen.source_ip = logins.source_ip
      and seen.occurred_at >= {{ dbt.dateadd('day', -lookback, 'logins.occurred_at') }}
      and seen.occurred_at < logins.occurred_at
)
