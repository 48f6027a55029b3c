#!/usr/bin/env python3
"""Writes lanchat.admx and its en-US and ru-RU .adml beside this script.

One policy per key of the policy file (docs/policy.md) in each of the two
sections, "Locked" and "Defaults": Group Policy writes it as a value of
that name under HKLM\\Software\\Policies\\lanchat\\<section>, which lanchat
reads (src/policy/registry.rs). A test (policy::registry) checks that every
key of the file is here. Run it again after adding a key.
"""

from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).parent
KEY = r"Software\Policies\lanchat"

# key, kind, English name, Russian name, English explanation, Russian one.
KEYS = [
    ("workgroup", "text", "Workgroup passphrase", "Пароль рабочей группы",
     "Only PCs with the same passphrase see each other; empty means the open LAN. Readable by every user of the PC.",
     "Друг друга видят только компьютеры с одинаковым паролем; пустой — открытая сеть. Виден всем пользователям компьютера."),
    ("nick_from_login", "flag", "Nick is the login name", "Ник — имя входа в систему",
     "The nick is the Windows login name. Do not also set Nick in the same section.",
     "Ник — имя пользователя Windows. Не задавайте одновременно «Ник» в том же разделе."),
    ("nick", "text", "Nick", "Ник",
     "A fixed nick: no spaces, commas or @, not starting with #.",
     "Постоянный ник: без пробелов, запятых и @, не начинается с #."),
    ("interfaces", "list", "Network interfaces", "Сетевые интерфейсы",
     "Use only these network interfaces, by name, separated by commas (for example: Ethernet, Ethernet 2).",
     "Использовать только эти сетевые интерфейсы, по имени, через запятую (например: Ethernet, Ethernet 2)."),
    ("port", "number", "UDP port", "Порт UDP",
     "UDP port of the group; every PC of the LAN must use the same (default 47077).",
     "Порт UDP группы; на всех компьютерах сети он должен быть одинаковым (по умолчанию 47077)."),
    ("join_history", "number", "Messages given when joining", "Сообщений при входе в канал",
     "Recent messages given when joining a channel with no history of it (0: none).",
     "Сколько последних сообщений получить при входе в канал без истории (0 — ни одного)."),
    ("keep_days", "number", "Keep history for days", "Хранить историю, дней",
     "Days of history to keep (0: everything).",
     "Сколько дней хранить историю (0 — всё)."),
    ("sounds", "flag", "Sounds", "Звуки", "Play the beep sound.", "Проигрывать звуковой сигнал."),
    ("notifications", "flag", "Notifications", "Уведомления", "Show desktop notifications.",
     "Показывать уведомления на рабочем столе."),
    ("auto_away_minutes", "number", "Away after minutes", "«Отошёл» через минут",
     "Minutes without input before the status becomes away (0: never).",
     "Минут без действий до статуса «отошёл» (0 — никогда)."),
    ("language", "language", "Language", "Язык", "The window's language.", "Язык окна."),
    ("channels", "list", "Channels joined at start", "Каналы при запуске",
     "Channels joined at start besides #Main, separated by commas (# may be left out).",
     "Каналы, в которые входить при запуске, кроме #Main, через запятую (# можно не писать)."),
    ("start_at_login", "flag", "Start at login", "Запуск при входе в систему",
     "Start lanchat when the user logs in.", "Запускать lanchat при входе пользователя."),
    ("start_minimised", "flag", "Start minimised", "Запуск в свёрнутом виде",
     "Start hidden in the notification area.", "Запускаться скрытым в области уведомлений."),
    ("download_dir", "text", "Download folder", "Папка для файлов",
     "Where received files are saved (the user's Downloads folder if not set).",
     "Куда сохранять полученные файлы (папка «Загрузки» пользователя, если не задано)."),
    ("auto_accept_files", "flag", "Accept files without asking", "Принимать файлы без вопроса",
     "Take file offers without asking.", "Принимать предложенные файлы без вопроса."),
]

SECTIONS = [
    ("Locked", "Locked (users cannot change)", "Закреплённые (пользователь не может изменить)",
     "Values users cannot change: they win over the user's settings and the command line.",
     "Значения, которые пользователь не может изменить: они сильнее его настроек и командной строки."),
    ("Defaults", "Defaults (put back at every start)", "По умолчанию (возвращаются при каждом запуске)",
     "Values written into the user's settings at every start; the user may change them until the next start.",
     "Значения, которые записываются в настройки пользователя при каждом запуске; до следующего запуска их можно менять."),
]

LANGUAGES = [("system", "System language", "Язык системы"), ("en", "English", "English"), ("ru", "Russian", "Русский")]


def admx():
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<!-- Written by make_admx.py: edit that, not this. -->',
           '<policyDefinitions xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" '
           'xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">',
           '  <policyNamespaces>',
           '    <target prefix="lanchat" namespace="Lanchat.Policies.Lanchat" />',
           '  </policyNamespaces>',
           '  <resources minRequiredRevision="1.0" />',
           '  <supportedOn>',
           '    <definitions>',
           '      <definition name="SUPPORTED_Lanchat" displayName="$(string.SUPPORTED_Lanchat)" />',
           '    </definitions>',
           '  </supportedOn>',
           '  <categories>',
           '    <category name="Lanchat" displayName="$(string.Lanchat)" />']
    for section, *_ in SECTIONS:
        out += [f'    <category name="{section}" displayName="$(string.{section})" explainText="$(string.{section}_Explain)">',
                '      <parentCategory ref="Lanchat" />',
                '    </category>']
    out += ['  </categories>', '  <policies>']
    for section, *_ in SECTIONS:
        key = f"{KEY}\\{section}"
        for name, kind, *_ in KEYS:
            head = (f'    <policy name="{section}_{name}" class="Machine" displayName="$(string.{name})" '
                    f'explainText="$(string.{name}_Explain)" key="{escape(key)}"')
            body = [f'      <parentCategory ref="{section}" />',
                    '      <supportedOn ref="SUPPORTED_Lanchat" />']
            if kind == "flag":
                out.append(head + f' valueName="{name}">')
                body += ['      <enabledValue><decimal value="1" /></enabledValue>',
                         '      <disabledValue><decimal value="0" /></disabledValue>']
            else:
                out.append(head + f' presentation="$(presentation.{name})">')
                if kind in ("text", "list"):
                    element = f'<text id="{name}" valueName="{name}" required="{"false" if name == "workgroup" else "true"}" />'
                elif kind == "number":
                    low, high = ("1", "65535") if name == "port" else ("0", "100000")
                    element = f'<decimal id="{name}" valueName="{name}" minValue="{low}" maxValue="{high}" required="true" />'
                else:
                    items = "".join(
                        f'<item displayName="$(string.language_{code})"><value><string>{code}</string></value></item>'
                        for code, *_ in LANGUAGES)
                    element = f'<enum id="{name}" valueName="{name}" required="true">{items}</enum>'
                body += ['      <elements>', f'        {element}', '      </elements>']
            out += body + ['    </policy>']
    out += ['  </policies>', '</policyDefinitions>', '']
    return "\n".join(out)


def adml(lang):
    ru = lang == "ru-RU"
    pick = (lambda en, r: r) if ru else (lambda en, r: en)
    strings = [("Lanchat", "lanchat"),
               ("SUPPORTED_Lanchat", pick("lanchat 0.1 and later", "lanchat 0.1 и новее"))]
    for section, en, r, en_x, r_x in SECTIONS:
        strings += [(section, pick(en, r)), (f"{section}_Explain", pick(en_x, r_x))]
    for name, _kind, en, r, en_x, r_x in KEYS:
        strings += [(name, pick(en, r)), (f"{name}_Explain", pick(en_x, r_x))]
    for code, en, r in LANGUAGES:
        strings.append((f"language_{code}", pick(en, r)))
    presentations = []
    for name, kind, en, r, *_ in KEYS:
        label = escape(pick(en, r)) + ":"
        if kind in ("text", "list"):
            presentations.append(f'      <presentation id="{name}"><textBox refId="{name}"><label>{label}</label></textBox></presentation>')
        elif kind == "number":
            presentations.append(f'      <presentation id="{name}"><decimalTextBox refId="{name}">{label}</decimalTextBox></presentation>')
        elif kind == "language":
            presentations.append(f'      <presentation id="{name}"><dropdownList refId="{name}" noSort="true" defaultItem="0">{label}</dropdownList></presentation>')
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<!-- Written by make_admx.py: edit that, not this. -->',
           '<policyDefinitionResources xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" '
           'xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">',
           '  <displayName>lanchat</displayName>',
           f'  <description>{escape(pick("Settings of the lanchat LAN chat", "Настройки чата lanchat"))}</description>',
           '  <resources>',
           '    <stringTable>']
    out += [f'      <string id="{i}">{escape(text)}</string>' for i, text in strings]
    out += ['    </stringTable>', '    <presentationTable>'] + presentations
    out += ['    </presentationTable>', '  </resources>', '</policyDefinitionResources>', '']
    return "\n".join(out)


if __name__ == "__main__":
    (HERE / "lanchat.admx").write_text(admx(), encoding="utf-8")
    for lang in ("en-US", "ru-RU"):
        (HERE / lang).mkdir(exist_ok=True)
        (HERE / lang / "lanchat.adml").write_text(adml(lang), encoding="utf-8")
