//! The built-in templates in Spanish.

use super::Defaults;

/// es: indexed by `NoticeKind as usize`.
pub(super) static ES: [Defaults; 8] = [
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
