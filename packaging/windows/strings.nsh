; The installer's own texts, English and Russian (MUI's language files give
; the rest). UTF-8: lanchat.nsi includes this file with /CHARSET=UTF8, so
; the main script stays ASCII and no byte-order mark is needed.

LangString SecMainName ${LANG_ENGLISH} "lanchat"
LangString SecMainName ${LANG_RUSSIAN} "lanchat"
LangString SecMainDesc ${LANG_ENGLISH} "The program, its Start menu shortcut and its entry in Installed apps."
LangString SecMainDesc ${LANG_RUSSIAN} "Программа, ярлык в меню «Пуск» и запись в списке установленных программ."

LangString SecDesktopName ${LANG_ENGLISH} "Desktop shortcut"
LangString SecDesktopName ${LANG_RUSSIAN} "Ярлык на рабочем столе"
LangString SecDesktopDesc ${LANG_ENGLISH} "A lanchat shortcut on the desktop."
LangString SecDesktopDesc ${LANG_RUSSIAN} "Ярлык lanchat на рабочем столе."

LangString SecAutostartName ${LANG_ENGLISH} "Start lanchat when I log in"
LangString SecAutostartName ${LANG_RUSSIAN} "Запускать lanchat при входе в систему"
LangString SecAutostartDesc ${LANG_ENGLISH} "For you, the user installing it; the same as Start at login in lanchat's Settings, where it can be turned off."
LangString SecAutostartDesc ${LANG_RUSSIAN} "Для вас, пользователя, который устанавливает; то же, что «Запускать при входе в систему» в настройках lanchat, где это можно выключить."

LangString FirewallAdding ${LANG_ENGLISH} "Allowing lanchat in Windows Firewall (domain and private networks)"
LangString FirewallAdding ${LANG_RUSSIAN} "Разрешение для lanchat в брандмауэре Windows (доменные и частные сети)"
; $0: what netsh returned (its exit code, or "error" when it did not start).
LangString FirewallFailed ${LANG_ENGLISH} "The firewall rule could not be added (netsh: $0). lanchat's Help → Network shows which ports to open."
LangString FirewallFailed ${LANG_RUSSIAN} "Не удалось добавить правило брандмауэра (netsh: $0). В lanchat «Справка» → «Сеть» показывает, какие порты открыть."
LangString FirewallPerUser ${LANG_ENGLISH} "Installed for this user only, so no firewall rules were added (that needs an installation for all users). If others cannot see you, lanchat's Help → Network shows which ports to open."
LangString FirewallPerUser ${LANG_RUSSIAN} "Установлено только для этого пользователя, поэтому правила брандмауэра не добавлены (для этого нужна установка для всех пользователей). Если вас не видят, в lanchat «Справка» → «Сеть» показывает, какие порты открыть."
LangString FirewallRemoving ${LANG_ENGLISH} "Removing lanchat's firewall rules"
LangString FirewallRemoving ${LANG_RUSSIAN} "Удаление правил брандмауэра для lanchat"

LangString AllUsersNotPossible ${LANG_ENGLISH} "Installing lanchat for all users needs administrator rights."
LangString AllUsersNotPossible ${LANG_RUSSIAN} "Для установки lanchat для всех пользователей нужны права администратора."
LangString UnAllUsersNeedsAdmin ${LANG_ENGLISH} "lanchat was installed for all users: removing it needs administrator rights."
LangString UnAllUsersNeedsAdmin ${LANG_RUSSIAN} "lanchat установлен для всех пользователей: для удаления нужны права администратора."

LangString UnSecMainName ${LANG_ENGLISH} "lanchat"
LangString UnSecMainName ${LANG_RUSSIAN} "lanchat"
LangString UnSecMainDesc ${LANG_ENGLISH} "The program, its shortcuts, its start at login and its firewall rules."
LangString UnSecMainDesc ${LANG_RUSSIAN} "Программа, её ярлыки, запуск при входе в систему и правила брандмауэра."
LangString UnSecDataName ${LANG_ENGLISH} "Also delete my chat history and settings"
LangString UnSecDataName ${LANG_RUSSIAN} "Также удалить мою историю переписки и настройки"
LangString UnSecDataDesc ${LANG_ENGLISH} "Deletes the folder lanchat keeps your history, settings and keys in (%APPDATA%\lanchat). Without it, a new installation carries on where this one stopped. Received files in Downloads are kept either way."
LangString UnSecDataDesc ${LANG_RUSSIAN} "Удаляет папку, где lanchat хранит вашу историю, настройки и ключи (%APPDATA%\lanchat). Без этого новая установка продолжит с того же места. Полученные файлы в «Загрузках» остаются в любом случае."
