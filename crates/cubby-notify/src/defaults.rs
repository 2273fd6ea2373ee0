//! Built-in templates: every kind in every language, four parts each.
//!
//! Rendered with `trim_blocks` and `lstrip_blocks` on (see the crate docs for
//! the variables and the `plural` function). Edit these by hand; the snapshot
//! tests under `tests/snapshots/` show every one of them rendered.

use crate::model::{Language, NoticeKind};

/// The four sources for one kind in one language.
pub(crate) struct Defaults {
    pub subject: &'static str,
    pub text: &'static str,
    pub html: &'static str,
    pub sms: &'static str,
}

/// The built-in sources for `kind` in `language`.
pub(crate) fn defaults(kind: NoticeKind, language: Language) -> &'static Defaults {
    let table = match language {
        Language::En => &EN,
        Language::Es => &ES,
        Language::Pl => &PL,
        Language::De => &DE,
    };
    &table[kind as usize]
}

/// en: indexed by `NoticeKind as usize`.
static EN: [Defaults; 8] = [
    // parcel_ready
    Defaults {
        subject: r#"{{ plural(parcel_count, "Your parcel is", "Your parcels are") }} ready at {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} {{ plural(parcel_count, "is", "are") }} waiting for you at {{ locker_name }}, {{ site_name }}.

{% if code %}
Pick-up code: {{ code }}

{% endif %}
{% if has_qr %}
You can also scan the QR code at the locker: it is in the HTML version of this message.

{% endif %}
{% if expires_at %}
Pick up by: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} {{ plural(parcel_count, "is", "are") }} waiting for you at {{ locker_name }}, {{ site_name }}.</p>
{% if code %}
<p>Pick-up code: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Or scan this QR code at the locker:<br>
<img src="{{ qr_src }}" alt="QR code for pick-up" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Pick up by: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} ready at {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Pick up by {{ expires_at }}.{% endif %}"#,
    },
    // reminder
    Defaults {
        subject: r#"Reminder: {{ plural(parcel_count, "a parcel is", "parcels are") }} waiting at {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

A reminder that {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} {{ plural(parcel_count, "is", "are") }} still waiting for you at {{ locker_name }}, {{ site_name }}.

{% if code %}
Pick-up code: {{ code }}

{% endif %}
{% if has_qr %}
You can also scan the QR code at the locker: it is in the HTML version of this message.

{% endif %}
{% if expires_at %}
Pick up by: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>A reminder that {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} {{ plural(parcel_count, "is", "are") }} still waiting for you at {{ locker_name }}, {{ site_name }}.</p>
{% if code %}
<p>Pick-up code: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Or scan this QR code at the locker:<br>
<img src="{{ qr_src }}" alt="QR code for pick-up" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Pick up by: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: reminder, {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} waiting at {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Pick up by {{ expires_at }}.{% endif %}"#,
    },
    // expiring_today
    Defaults {
        subject: r#"Last day to collect from {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

Today is the last day to collect {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} from {{ locker_name }}, {{ site_name }}. After that {{ plural(parcel_count, "it goes", "they go") }} back to the sender.

{% if code %}
Pick-up code: {{ code }}

{% endif %}
{% if has_qr %}
You can also scan the QR code at the locker: it is in the HTML version of this message.

{% endif %}
{% if expires_at %}
Pick up by: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>Today is the last day to collect {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} from {{ locker_name }}, {{ site_name }}. After that {{ plural(parcel_count, "it goes", "they go") }} back to the sender.</p>
{% if code %}
<p>Pick-up code: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Or scan this QR code at the locker:<br>
<img src="{{ qr_src }}" alt="QR code for pick-up" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Pick up by: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: last day to collect {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} from {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Deadline {{ expires_at }}.{% endif %}"#,
    },
    // expired
    Defaults {
        subject: r#"{{ plural(parcel_count, "Parcel", "Parcels") }} not collected at {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

The pick-up period for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }}, {{ site_name }} has ended, and {{ plural(parcel_count, "it has", "they have") }} been moved to the return queue.

If you still need {{ plural(parcel_count, "it", "them") }}, please contact the site staff as soon as possible.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>The pick-up period for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }}, {{ site_name }} has ended, and {{ plural(parcel_count, "it has", "they have") }} been moved to the return queue.</p>
<p>If you still need {{ plural(parcel_count, "it", "them") }}, please contact the site staff as soon as possible.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: the pick-up period for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }} has ended; moved to the return queue. Contact the site staff if you still need {{ plural(parcel_count, "it", "them") }}."#,
    },
    // returned_to_carrier
    Defaults {
        subject: r#"{{ plural(parcel_count, "Parcel", "Parcels") }} returned to the carrier"#,
        text: r#"Hello {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} not collected from {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "has", "have") }} been handed back to {% if carrier_name %}{{ carrier_name }}{% else %}the carrier{% endif %}.

Please contact the carrier or the sender to arrange a new delivery.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} not collected from {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "has", "have") }} been handed back to {% if carrier_name %}{{ carrier_name }}{% else %}the carrier{% endif %}.</p>
<p>Please contact the carrier or the sender to arrange a new delivery.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} not collected from {{ locker_name }} returned to {% if carrier_name %}{{ carrier_name }}{% else %}the carrier{% endif %}."#,
    },
    // hold_confirmed
    Defaults {
        subject: r#"Hold confirmed at {{ site_name }}"#,
        text: r#"Hello {{ recipient_name }},

Your hold request is confirmed{% if hold_until %} until {{ hold_until }}{% endif %}.

Parcels that arrive for you in the meantime will be kept at {{ locker_name }}, {{ site_name }} and not returned to the sender.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>Your hold request is confirmed{% if hold_until %} until {{ hold_until }}{% endif %}.</p>
<p>Parcels that arrive for you in the meantime will be kept at {{ locker_name }}, {{ site_name }} and not returned to the sender.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: hold confirmed{% if hold_until %} until {{ hold_until }}{% endif %}. Parcels will be kept at {{ locker_name }}."#,
    },
    // code_reissued
    Defaults {
        subject: r#"New pick-up code for {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

A new pick-up code was issued for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }}, {{ site_name }}. The previous code no longer works.

{% if code %}
Pick-up code: {{ code }}

{% endif %}
{% if has_qr %}
You can also scan the QR code at the locker: it is in the HTML version of this message.

{% endif %}
{% if expires_at %}
Pick up by: {{ expires_at }}

{% endif %}
If you did not ask for a new code, please contact the site staff.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>A new pick-up code was issued for {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} at {{ locker_name }}, {{ site_name }}. The previous code no longer works.</p>
{% if code %}
<p>Pick-up code: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Or scan this QR code at the locker:<br>
<img src="{{ qr_src }}" alt="QR code for pick-up" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Pick up by: {{ expires_at }}</p>
{% endif %}
<p>If you did not ask for a new code, please contact the site staff.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: new pick-up code for {{ locker_name }}{% if code %}: {{ code }}{% endif %}. The previous code no longer works."#,
    },
    // escalation
    Defaults {
        subject: r#"Parcel overdue: {% if unit %}unit {{ unit }}{% else %}unknown unit{% endif %}, {{ locker_name }}"#,
        text: r#"Hello {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} for {% if unit %}unit {{ unit }}{% else %}an unknown unit{% endif %} {{ plural(parcel_count, "has", "have") }} been waiting in {{ locker_name }}, {{ site_name }}{% if days_waiting %} for {{ days_waiting }} {{ plural(days_waiting, "day", "days") }}{% endif %}, past the site's threshold.

Please follow up with the resident.

-- 
{{ site_name }}
This is an automatic message; please do not reply.
"#,
        html: r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hello {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} for {% if unit %}unit {{ unit }}{% else %}an unknown unit{% endif %} {{ plural(parcel_count, "has", "have") }} been waiting in {{ locker_name }}, {{ site_name }}{% if days_waiting %} for {{ days_waiting }} {{ plural(days_waiting, "day", "days") }}{% endif %}, past the site's threshold.</p>
<p>Please follow up with the resident.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
This is an automatic message; please do not reply.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "parcel", "parcels") }} for {% if unit %}unit {{ unit }}{% else %}an unknown unit{% endif %} waiting in {{ locker_name }}{% if days_waiting %} for {{ days_waiting }} {{ plural(days_waiting, "day", "days") }}{% endif %}."#,
    },
];

/// es: indexed by `NoticeKind as usize`.
static ES: [Defaults; 8] = [
    // parcel_ready
    Defaults {
        subject: r#"{{ plural(parcel_count, "Su paquete está listo", "Sus paquetes están listos") }} en {{ locker_name }}"#,
        text: r#"Hola, {{ recipient_name }}:

{{ plural(parcel_count, "Le espera", "Le esperan") }} {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }}.

{% if code %}
Código de recogida: {{ code }}

{% endif %}
{% if has_qr %}
También puede escanear en el casillero el código QR que aparece en la versión HTML de este mensaje.

{% endif %}
{% if expires_at %}
Recoger antes de: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Este es un mensaje automático; por favor, no responda.
"#,
        html: r#"<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hola, {{ recipient_name }}:</p>
<p>{{ plural(parcel_count, "Le espera", "Le esperan") }} {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }}.</p>
{% if code %}
<p>Código de recogida: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>O escanee este código QR en el casillero:<br>
<img src="{{ qr_src }}" alt="Código QR para la recogida" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Recoger antes de: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Este es un mensaje automático; por favor, no responda.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} {{ plural(parcel_count, "listo", "listos") }} en {{ locker_name }}.{% if code %} Código {{ code }}.{% endif %}{% if expires_at %} Recoger antes de {{ expires_at }}.{% endif %}"#,
    },
    // reminder
    Defaults {
        subject: r#"Recordatorio: {{ plural(parcel_count, "un paquete le espera", "varios paquetes le esperan") }} en {{ locker_name }}"#,
        text: r#"Hola, {{ recipient_name }}:

Le recordamos que {{ plural(parcel_count, "sigue esperándole", "siguen esperándole") }} {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }}.

{% if code %}
Código de recogida: {{ code }}

{% endif %}
{% if has_qr %}
También puede escanear en el casillero el código QR que aparece en la versión HTML de este mensaje.

{% endif %}
{% if expires_at %}
Recoger antes de: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Este es un mensaje automático; por favor, no responda.
"#,
        html: r#"<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hola, {{ recipient_name }}:</p>
<p>Le recordamos que {{ plural(parcel_count, "sigue esperándole", "siguen esperándole") }} {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }}.</p>
{% if code %}
<p>Código de recogida: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>O escanee este código QR en el casillero:<br>
<img src="{{ qr_src }}" alt="Código QR para la recogida" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Recoger antes de: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Este es un mensaje automático; por favor, no responda.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: recordatorio, {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}.{% if code %} Código {{ code }}.{% endif %}{% if expires_at %} Recoger antes de {{ expires_at }}.{% endif %}"#,
    },
    // expiring_today
    Defaults {
        subject: r#"Último día para recoger en {{ locker_name }}"#,
        text: r#"Hola, {{ recipient_name }}:

Hoy es el último día para recoger {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }}. Después se {{ plural(parcel_count, "devolverá", "devolverán") }} al remitente.

{% if code %}
Código de recogida: {{ code }}

{% endif %}
{% if has_qr %}
También puede escanear en el casillero el código QR que aparece en la versión HTML de este mensaje.

{% endif %}
{% if expires_at %}
Recoger antes de: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Este es un mensaje automático; por favor, no responda.
"#,
        html: r#"<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hola, {{ recipient_name }}:</p>
<p>Hoy es el último día para recoger {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }}. Después se {{ plural(parcel_count, "devolverá", "devolverán") }} al remitente.</p>
{% if code %}
<p>Código de recogida: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>O escanee este código QR en el casillero:<br>
<img src="{{ qr_src }}" alt="Código QR para la recogida" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Recoger antes de: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Este es un mensaje automático; por favor, no responda.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: hoy es el último día para recoger {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}.{% if code %} Código {{ code }}.{% endif %}{% if expires_at %} Plazo: {{ expires_at }}.{% endif %}"#,
    },
    // expired
    Defaults {
        subject: r#"{{ plural(parcel_count, "Paquete no recogido", "Paquetes no recogidos") }} en {{ locker_name }}"#,
        text: r#"Hola, {{ recipient_name }}:

El plazo de recogida de {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }} ha terminado y {{ plural(parcel_count, "se ha trasladado", "se han trasladado") }} a la cola de devolución.

Si aún {{ plural(parcel_count, "lo necesita", "los necesita") }}, póngase en contacto con el personal del edificio lo antes posible.

-- 
{{ site_name }}
Este es un mensaje automático; por favor, no responda.
"#,
        html: r#"<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hola, {{ recipient_name }}:</p>
<p>El plazo de recogida de {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }} ha terminado y {{ plural(parcel_count, "se ha trasladado", "se han trasladado") }} a la cola de devolución.</p>
<p>Si aún {{ plural(parcel_count, "lo necesita", "los necesita") }}, póngase en contacto con el personal del edificio lo antes posible.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Este es un mensaje automático; por favor, no responda.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: terminó el plazo de recogida de {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}; {{ plural(parcel_count, "pasa", "pasan") }} a la cola de devolución. Contacte con el personal si aún {{ plural(parcel_count, "lo necesita", "los necesita") }}."#,
    },
    // returned_to_carrier
    Defaults {
        subject: r#"{{ plural(parcel_count, "Paquete devuelto", "Paquetes devueltos") }} al transportista"#,
        text: r#"Hola, {{ recipient_name }}:

{{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} no {{ plural(parcel_count, "recogido", "recogidos") }} en {{ locker_name }}, {{ site_name }} se {{ plural(parcel_count, "ha devuelto", "han devuelto") }} {% if carrier_name %}a {{ carrier_name }}{% else %}al transportista{% endif %}.

Póngase en contacto con el transportista o con el remitente para acordar una nueva entrega.

-- 
{{ site_name }}
Este es un mensaje automático; por favor, no responda.
"#,
        html: r#"<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hola, {{ recipient_name }}:</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} no {{ plural(parcel_count, "recogido", "recogidos") }} en {{ locker_name }}, {{ site_name }} se {{ plural(parcel_count, "ha devuelto", "han devuelto") }} {% if carrier_name %}a {{ carrier_name }}{% else %}al transportista{% endif %}.</p>
<p>Póngase en contacto con el transportista o con el remitente para acordar una nueva entrega.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Este es un mensaje automático; por favor, no responda.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} no {{ plural(parcel_count, "recogido", "recogidos") }} en {{ locker_name }} {{ plural(parcel_count, "devuelto", "devueltos") }} {% if carrier_name %}a {{ carrier_name }}{% else %}al transportista{% endif %}."#,
    },
    // hold_confirmed
    Defaults {
        subject: r#"Retención confirmada en {{ site_name }}"#,
        text: r#"Hola, {{ recipient_name }}:

Su solicitud de retención está confirmada{% if hold_until %} hasta {{ hold_until }}{% endif %}.

Los paquetes que lleguen mientras tanto se guardarán en {{ locker_name }}, {{ site_name }} y no se devolverán al remitente.

-- 
{{ site_name }}
Este es un mensaje automático; por favor, no responda.
"#,
        html: r#"<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hola, {{ recipient_name }}:</p>
<p>Su solicitud de retención está confirmada{% if hold_until %} hasta {{ hold_until }}{% endif %}.</p>
<p>Los paquetes que lleguen mientras tanto se guardarán en {{ locker_name }}, {{ site_name }} y no se devolverán al remitente.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Este es un mensaje automático; por favor, no responda.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: retención confirmada{% if hold_until %} hasta {{ hold_until }}{% endif %}. Sus paquetes se guardarán en {{ locker_name }}."#,
    },
    // code_reissued
    Defaults {
        subject: r#"Nuevo código de recogida para {{ locker_name }}"#,
        text: r#"Hola, {{ recipient_name }}:

Se ha emitido un nuevo código de recogida para {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }}. El código anterior ya no es válido.

{% if code %}
Código de recogida: {{ code }}

{% endif %}
{% if has_qr %}
También puede escanear en el casillero el código QR que aparece en la versión HTML de este mensaje.

{% endif %}
{% if expires_at %}
Recoger antes de: {{ expires_at }}

{% endif %}
Si no ha solicitado un código nuevo, póngase en contacto con el personal del edificio.

-- 
{{ site_name }}
Este es un mensaje automático; por favor, no responda.
"#,
        html: r#"<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hola, {{ recipient_name }}:</p>
<p>Se ha emitido un nuevo código de recogida para {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} en {{ locker_name }}, {{ site_name }}. El código anterior ya no es válido.</p>
{% if code %}
<p>Código de recogida: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>O escanee este código QR en el casillero:<br>
<img src="{{ qr_src }}" alt="Código QR para la recogida" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Recoger antes de: {{ expires_at }}</p>
{% endif %}
<p>Si no ha solicitado un código nuevo, póngase en contacto con el personal del edificio.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Este es un mensaje automático; por favor, no responda.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: nuevo código de recogida para {{ locker_name }}{% if code %}: {{ code }}{% endif %}. El código anterior ya no es válido."#,
    },
    // escalation
    Defaults {
        subject: r#"Paquete retrasado: {% if unit %}unidad {{ unit }}{% else %}unidad desconocida{% endif %}, {{ locker_name }}"#,
        text: r#"Hola, {{ recipient_name }}:

{{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} para {% if unit %}la unidad {{ unit }}{% else %}una unidad desconocida{% endif %} {{ plural(parcel_count, "lleva", "llevan") }} en {{ locker_name }}, {{ site_name }}{% if days_waiting %} {{ days_waiting }} {{ plural(days_waiting, "día", "días") }}{% endif %}, más allá del límite del edificio.

Por favor, haga un seguimiento con el residente.

-- 
{{ site_name }}
Este es un mensaje automático; por favor, no responda.
"#,
        html: r#"<!DOCTYPE html>
<html lang="es">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hola, {{ recipient_name }}:</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} para {% if unit %}la unidad {{ unit }}{% else %}una unidad desconocida{% endif %} {{ plural(parcel_count, "lleva", "llevan") }} en {{ locker_name }}, {{ site_name }}{% if days_waiting %} {{ days_waiting }} {{ plural(days_waiting, "día", "días") }}{% endif %}, más allá del límite del edificio.</p>
<p>Por favor, haga un seguimiento con el residente.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Este es un mensaje automático; por favor, no responda.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "paquete", "paquetes") }} para {% if unit %}la unidad {{ unit }}{% else %}una unidad desconocida{% endif %} en {{ locker_name }}{% if days_waiting %} desde hace {{ days_waiting }} {{ plural(days_waiting, "día", "días") }}{% endif %}."#,
    },
];

/// pl: indexed by `NoticeKind as usize`.
static PL: [Defaults; 8] = [
    // parcel_ready
    Defaults {
        subject: r#"{{ plural(parcel_count, "Twoja paczka czeka", "Twoje paczki czekają", "Twoje paczki czekają") }} w {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru w {{ locker_name }}, {{ site_name }}.

{% if code %}
Kod odbioru: {{ code }}

{% endif %}
{% if has_qr %}
Możesz też zeskanować przy skrytce kod QR z wersji HTML tej wiadomości.

{% endif %}
{% if expires_at %}
Odbierz do: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru w {{ locker_name }}, {{ site_name }}.</p>
{% if code %}
<p>Kod odbioru: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Możesz też zeskanować ten kod QR przy skrytce:<br>
<img src="{{ qr_src }}" alt="Kod QR do odbioru" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Odbierz do: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru w {{ locker_name }}.{% if code %} Kod {{ code }}.{% endif %}{% if expires_at %} Odbierz do {{ expires_at }}.{% endif %}"#,
    },
    // reminder
    Defaults {
        subject: r#"Przypomnienie: {{ plural(parcel_count, "paczka czeka", "paczki czekają", "paczki czekają") }} w {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Przypominamy, że w {{ locker_name }}, {{ site_name }} nadal masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru.

{% if code %}
Kod odbioru: {{ code }}

{% endif %}
{% if has_qr %}
Możesz też zeskanować przy skrytce kod QR z wersji HTML tej wiadomości.

{% endif %}
{% if expires_at %}
Odbierz do: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Przypominamy, że w {{ locker_name }}, {{ site_name }} nadal masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru.</p>
{% if code %}
<p>Kod odbioru: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Możesz też zeskanować ten kod QR przy skrytce:<br>
<img src="{{ qr_src }}" alt="Kod QR do odbioru" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Odbierz do: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: przypomnienie, masz {{ parcel_count }} {{ plural(parcel_count, "paczkę", "paczki", "paczek") }} do odbioru w {{ locker_name }}.{% if code %} Kod {{ code }}.{% endif %}{% if expires_at %} Odbierz do {{ expires_at }}.{% endif %}"#,
    },
    // expiring_today
    Defaults {
        subject: r#"Ostatni dzień odbioru w {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Dziś jest ostatni dzień na odbiór {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}, {{ site_name }}. Potem {{ plural(parcel_count, "wróci", "wrócą", "wróci") }} do nadawcy.

{% if code %}
Kod odbioru: {{ code }}

{% endif %}
{% if has_qr %}
Możesz też zeskanować przy skrytce kod QR z wersji HTML tej wiadomości.

{% endif %}
{% if expires_at %}
Odbierz do: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Dziś jest ostatni dzień na odbiór {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}, {{ site_name }}. Potem {{ plural(parcel_count, "wróci", "wrócą", "wróci") }} do nadawcy.</p>
{% if code %}
<p>Kod odbioru: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Możesz też zeskanować ten kod QR przy skrytce:<br>
<img src="{{ qr_src }}" alt="Kod QR do odbioru" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Odbierz do: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: dziś ostatni dzień na odbiór {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}.{% if code %} Kod {{ code }}.{% endif %}{% if expires_at %} Termin: {{ expires_at }}.{% endif %}"#,
    },
    // expired
    Defaults {
        subject: r#"{{ plural(parcel_count, "Nieodebrana paczka", "Nieodebrane paczki", "Nieodebrane paczki") }} w {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Termin odbioru {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}, {{ site_name }} minął. {{ plural(parcel_count, "Przesyłka trafiła", "Przesyłki trafiły", "Przesyłki trafiły") }} do kolejki zwrotów.

Jeśli nadal {{ plural(parcel_count, "jej", "ich", "ich") }} potrzebujesz, jak najszybciej skontaktuj się z obsługą budynku.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Termin odbioru {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}, {{ site_name }} minął. {{ plural(parcel_count, "Przesyłka trafiła", "Przesyłki trafiły", "Przesyłki trafiły") }} do kolejki zwrotów.</p>
<p>Jeśli nadal {{ plural(parcel_count, "jej", "ich", "ich") }} potrzebujesz, jak najszybciej skontaktuj się z obsługą budynku.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: minął termin odbioru {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} z {{ locker_name }}; {{ plural(parcel_count, "przesyłka trafiła", "przesyłki trafiły", "przesyłki trafiły") }} do kolejki zwrotów. W razie potrzeby skontaktuj się z obsługą."#,
    },
    // returned_to_carrier
    Defaults {
        subject: r#"{{ plural(parcel_count, "Paczka zwrócona", "Paczki zwrócone", "Paczki zwrócone") }} przewoźnikowi"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Nieodebrane paczki z {{ locker_name }}, {{ site_name }} (liczba: {{ parcel_count }}) zostały zwrócone {% if carrier_name %}przewoźnikowi {{ carrier_name }}{% else %}przewoźnikowi{% endif %}.

Skontaktuj się z przewoźnikiem lub nadawcą, aby ustalić ponowną dostawę.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Nieodebrane paczki z {{ locker_name }}, {{ site_name }} (liczba: {{ parcel_count }}) zostały zwrócone {% if carrier_name %}przewoźnikowi {{ carrier_name }}{% else %}przewoźnikowi{% endif %}.</p>
<p>Skontaktuj się z przewoźnikiem lub nadawcą, aby ustalić ponowną dostawę.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: nieodebrane paczki z {{ locker_name }} ({{ parcel_count }}) zwrócono {% if carrier_name %}przewoźnikowi {{ carrier_name }}{% else %}przewoźnikowi{% endif %}."#,
    },
    // hold_confirmed
    Defaults {
        subject: r#"Przechowanie potwierdzone – {{ site_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Twoja prośba o przechowanie przesyłek została potwierdzona{% if hold_until %} do {{ hold_until }}{% endif %}.

Paczki, które w tym czasie nadejdą, będą przechowywane w {{ locker_name }}, {{ site_name }} i nie zostaną zwrócone nadawcy.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Twoja prośba o przechowanie przesyłek została potwierdzona{% if hold_until %} do {{ hold_until }}{% endif %}.</p>
<p>Paczki, które w tym czasie nadejdą, będą przechowywane w {{ locker_name }}, {{ site_name }} i nie zostaną zwrócone nadawcy.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: przechowanie potwierdzone{% if hold_until %} do {{ hold_until }}{% endif %}. Paczki będą czekać w {{ locker_name }}."#,
    },
    // code_reissued
    Defaults {
        subject: r#"Nowy kod odbioru do {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

Wydaliśmy nowy kod odbioru dla {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} w {{ locker_name }}, {{ site_name }}. Poprzedni kod jest już nieważny.

{% if code %}
Kod odbioru: {{ code }}

{% endif %}
{% if has_qr %}
Możesz też zeskanować przy skrytce kod QR z wersji HTML tej wiadomości.

{% endif %}
{% if expires_at %}
Odbierz do: {{ expires_at }}

{% endif %}
Jeśli nowy kod nie był zamawiany przez Ciebie, skontaktuj się z obsługą budynku.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>Wydaliśmy nowy kod odbioru dla {{ parcel_count }} {{ plural(parcel_count, "paczki", "paczek", "paczek") }} w {{ locker_name }}, {{ site_name }}. Poprzedni kod jest już nieważny.</p>
{% if code %}
<p>Kod odbioru: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Możesz też zeskanować ten kod QR przy skrytce:<br>
<img src="{{ qr_src }}" alt="Kod QR do odbioru" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Odbierz do: {{ expires_at }}</p>
{% endif %}
<p>Jeśli nowy kod nie był zamawiany przez Ciebie, skontaktuj się z obsługą budynku.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: nowy kod odbioru do {{ locker_name }}{% if code %}: {{ code }}{% endif %}. Poprzedni kod jest nieważny."#,
    },
    // escalation
    Defaults {
        subject: r#"Zalegająca paczka: {% if unit %}lokal {{ unit }}{% else %}nieznany lokal{% endif %}, {{ locker_name }}"#,
        text: r#"Dzień dobry, {{ recipient_name }}!

W {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "czeka", "czekają", "czeka") }} {{ parcel_count }} {{ plural(parcel_count, "paczka", "paczki", "paczek") }} dla {% if unit %}lokalu {{ unit }}{% else %}nieznanego lokalu{% endif %}{% if days_waiting %} od {{ days_waiting }} {{ plural(days_waiting, "dnia", "dni", "dni") }}{% endif %}, dłużej niż pozwala limit budynku.

Prosimy o kontakt z mieszkańcem.

-- 
{{ site_name }}
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.
"#,
        html: r#"<!DOCTYPE html>
<html lang="pl">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Dzień dobry, {{ recipient_name }}!</p>
<p>W {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "czeka", "czekają", "czeka") }} {{ parcel_count }} {{ plural(parcel_count, "paczka", "paczki", "paczek") }} dla {% if unit %}lokalu {{ unit }}{% else %}nieznanego lokalu{% endif %}{% if days_waiting %} od {{ days_waiting }} {{ plural(days_waiting, "dnia", "dni", "dni") }}{% endif %}, dłużej niż pozwala limit budynku.</p>
<p>Prosimy o kontakt z mieszkańcem.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Wiadomość wysłana automatycznie, prosimy na nią nie odpowiadać.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "paczka", "paczki", "paczek") }} dla {% if unit %}lokalu {{ unit }}{% else %}nieznanego lokalu{% endif %} w {{ locker_name }}{% if days_waiting %} od {{ days_waiting }} {{ plural(days_waiting, "dnia", "dni", "dni") }}{% endif %}."#,
    },
];

/// de: indexed by `NoticeKind as usize`.
static DE: [Defaults; 8] = [
    // parcel_ready
    Defaults {
        subject: r#"{{ plural(parcel_count, "Ihr Paket liegt", "Ihre Pakete liegen") }} in {{ locker_name }} bereit"#,
        text: r#"Hallo {{ recipient_name }},

In {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "liegt", "liegen") }} {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für Sie zur Abholung bereit.

{% if code %}
Abholcode: {{ code }}

{% endif %}
{% if has_qr %}
Sie können am Schließfach auch den QR-Code aus der HTML-Version dieser Nachricht scannen.

{% endif %}
{% if expires_at %}
Abholung bis: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>In {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "liegt", "liegen") }} {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für Sie zur Abholung bereit.</p>
{% if code %}
<p>Abholcode: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Oder scannen Sie diesen QR-Code am Schließfach:<br>
<img src="{{ qr_src }}" alt="QR-Code zur Abholung" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Abholung bis: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }} abholbereit.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Abholung bis {{ expires_at }}.{% endif %}"#,
    },
    // reminder
    Defaults {
        subject: r#"Erinnerung: {{ plural(parcel_count, "Ein Paket wartet", "Pakete warten") }} in {{ locker_name }}"#,
        text: r#"Hallo {{ recipient_name }},

Zur Erinnerung: In {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "wartet", "warten") }} noch {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} auf Sie.

{% if code %}
Abholcode: {{ code }}

{% endif %}
{% if has_qr %}
Sie können am Schließfach auch den QR-Code aus der HTML-Version dieser Nachricht scannen.

{% endif %}
{% if expires_at %}
Abholung bis: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Zur Erinnerung: In {{ locker_name }}, {{ site_name }} {{ plural(parcel_count, "wartet", "warten") }} noch {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} auf Sie.</p>
{% if code %}
<p>Abholcode: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Oder scannen Sie diesen QR-Code am Schließfach:<br>
<img src="{{ qr_src }}" alt="QR-Code zur Abholung" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Abholung bis: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: Erinnerung, {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Abholung bis {{ expires_at }}.{% endif %}"#,
    },
    // expiring_today
    Defaults {
        subject: r#"Letzter Abholtag in {{ locker_name }}"#,
        text: r#"Hallo {{ recipient_name }},

Heute ist der letzte Tag, um {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} abzuholen. Danach {{ plural(parcel_count, "geht es", "gehen sie") }} an den Absender zurück.

{% if code %}
Abholcode: {{ code }}

{% endif %}
{% if has_qr %}
Sie können am Schließfach auch den QR-Code aus der HTML-Version dieser Nachricht scannen.

{% endif %}
{% if expires_at %}
Abholung bis: {{ expires_at }}

{% endif %}
-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Heute ist der letzte Tag, um {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} abzuholen. Danach {{ plural(parcel_count, "geht es", "gehen sie") }} an den Absender zurück.</p>
{% if code %}
<p>Abholcode: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Oder scannen Sie diesen QR-Code am Schließfach:<br>
<img src="{{ qr_src }}" alt="QR-Code zur Abholung" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Abholung bis: {{ expires_at }}</p>
{% endif %}
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: heute letzter Abholtag für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}.{% if code %} Code {{ code }}.{% endif %}{% if expires_at %} Frist: {{ expires_at }}.{% endif %}"#,
    },
    // expired
    Defaults {
        subject: r#"{{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }} nicht abgeholt"#,
        text: r#"Hallo {{ recipient_name }},

Die Abholfrist für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} ist abgelaufen; {{ plural(parcel_count, "es wurde", "sie wurden") }} in die Rücksendewarteschlange verschoben.

Falls Sie {{ plural(parcel_count, "es", "sie") }} noch benötigen, wenden Sie sich bitte umgehend an das Personal vor Ort.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Die Abholfrist für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} ist abgelaufen; {{ plural(parcel_count, "es wurde", "sie wurden") }} in die Rücksendewarteschlange verschoben.</p>
<p>Falls Sie {{ plural(parcel_count, "es", "sie") }} noch benötigen, wenden Sie sich bitte umgehend an das Personal vor Ort.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: Abholfrist für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }} abgelaufen; zur Rücksendung vorgemerkt. Bei Bedarf bitte das Personal kontaktieren."#,
    },
    // returned_to_carrier
    Defaults {
        subject: r#"{{ plural(parcel_count, "Paket", "Pakete") }} an den Zusteller zurückgegeben"#,
        text: r#"Hallo {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }}, {{ plural(parcel_count, "das", "die") }} nicht aus {{ locker_name }}, {{ site_name }} abgeholt {{ plural(parcel_count, "wurde", "wurden") }}, {{ plural(parcel_count, "wurde", "wurden") }} an {% if carrier_name %}{{ carrier_name }}{% else %}den Zusteller{% endif %} zurückgegeben.

Bitte wenden Sie sich an den Zusteller oder den Absender, um eine neue Zustellung zu vereinbaren.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }}, {{ plural(parcel_count, "das", "die") }} nicht aus {{ locker_name }}, {{ site_name }} abgeholt {{ plural(parcel_count, "wurde", "wurden") }}, {{ plural(parcel_count, "wurde", "wurden") }} an {% if carrier_name %}{{ carrier_name }}{% else %}den Zusteller{% endif %} zurückgegeben.</p>
<p>Bitte wenden Sie sich an den Zusteller oder den Absender, um eine neue Zustellung zu vereinbaren.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} aus {{ locker_name }} an {% if carrier_name %}{{ carrier_name }}{% else %}den Zusteller{% endif %} zurückgegeben."#,
    },
    // hold_confirmed
    Defaults {
        subject: r#"Aufbewahrung bestätigt: {{ site_name }}"#,
        text: r#"Hallo {{ recipient_name }},

Ihre Aufbewahrungsanfrage ist bestätigt{% if hold_until %} bis {{ hold_until }}{% endif %}.

Pakete, die in dieser Zeit für Sie ankommen, werden in {{ locker_name }}, {{ site_name }} aufbewahrt und nicht an den Absender zurückgeschickt.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Ihre Aufbewahrungsanfrage ist bestätigt{% if hold_until %} bis {{ hold_until }}{% endif %}.</p>
<p>Pakete, die in dieser Zeit für Sie ankommen, werden in {{ locker_name }}, {{ site_name }} aufbewahrt und nicht an den Absender zurückgeschickt.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: Aufbewahrung bestätigt{% if hold_until %} bis {{ hold_until }}{% endif %}. Pakete bleiben in {{ locker_name }}."#,
    },
    // code_reissued
    Defaults {
        subject: r#"Neuer Abholcode für {{ locker_name }}"#,
        text: r#"Hallo {{ recipient_name }},

Für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} wurde ein neuer Abholcode ausgestellt. Der bisherige Code ist ungültig.

{% if code %}
Abholcode: {{ code }}

{% endif %}
{% if has_qr %}
Sie können am Schließfach auch den QR-Code aus der HTML-Version dieser Nachricht scannen.

{% endif %}
{% if expires_at %}
Abholung bis: {{ expires_at }}

{% endif %}
Falls Sie keinen neuen Code angefordert haben, wenden Sie sich bitte an das Personal vor Ort.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>Für {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} in {{ locker_name }}, {{ site_name }} wurde ein neuer Abholcode ausgestellt. Der bisherige Code ist ungültig.</p>
{% if code %}
<p>Abholcode: <strong style="font-size:22px;letter-spacing:2px">{{ code }}</strong></p>
{% endif %}
{% if qr_src %}
<p>Oder scannen Sie diesen QR-Code am Schließfach:<br>
<img src="{{ qr_src }}" alt="QR-Code zur Abholung" width="240" height="240"></p>
{% endif %}
{% if expires_at %}
<p>Abholung bis: {{ expires_at }}</p>
{% endif %}
<p>Falls Sie keinen neuen Code angefordert haben, wenden Sie sich bitte an das Personal vor Ort.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: neuer Abholcode für {{ locker_name }}{% if code %}: {{ code }}{% endif %}. Der bisherige Code ist ungültig."#,
    },
    // escalation
    Defaults {
        subject: r#"Paket überfällig: {% if unit %}Wohnung {{ unit }}{% else %}unbekannte Wohnung{% endif %}, {{ locker_name }}"#,
        text: r#"Hallo {{ recipient_name }},

{{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für {% if unit %}Wohnung {{ unit }}{% else %}unbekannte Wohnung{% endif %} {{ plural(parcel_count, "liegt", "liegen") }}{% if days_waiting %} seit {{ days_waiting }} {{ plural(days_waiting, "Tag", "Tagen") }}{% endif %} in {{ locker_name }}, {{ site_name }} und {{ plural(parcel_count, "hat", "haben") }} die Frist des Standorts überschritten.

Bitte nehmen Sie Kontakt mit der Bewohnerin oder dem Bewohner auf.

-- 
{{ site_name }}
Automatisch erstellte Nachricht – bitte nicht antworten.
"#,
        html: r#"<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>{{ site_name }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222">
<p>Hallo {{ recipient_name }},</p>
<p>{{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für {% if unit %}Wohnung {{ unit }}{% else %}unbekannte Wohnung{% endif %} {{ plural(parcel_count, "liegt", "liegen") }}{% if days_waiting %} seit {{ days_waiting }} {{ plural(days_waiting, "Tag", "Tagen") }}{% endif %} in {{ locker_name }}, {{ site_name }} und {{ plural(parcel_count, "hat", "haben") }} die Frist des Standorts überschritten.</p>
<p>Bitte nehmen Sie Kontakt mit der Bewohnerin oder dem Bewohner auf.</p>
<p style="color:#666;font-size:13px">{{ site_name }}<br>
Automatisch erstellte Nachricht – bitte nicht antworten.</p>
</body>
</html>
"#,
        sms: r#"{{ site_name }}: {{ parcel_count }} {{ plural(parcel_count, "Paket", "Pakete") }} für {% if unit %}Wohnung {{ unit }}{% else %}unbekannte Wohnung{% endif %} in {{ locker_name }}{% if days_waiting %} seit {{ days_waiting }} {{ plural(days_waiting, "Tag", "Tagen") }}{% endif %}."#,
    },
];
