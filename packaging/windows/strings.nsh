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
LangString SecAutostartDesc ${LANG_ENGLISH} "lanchat starts when you log in (you: the user installing it). Settings in lanchat turn it off."
LangString SecAutostartDesc ${LANG_RUSSIAN} "lanchat запускается, когда вы входите в систему (вы: тот, кто устанавливает). Выключается в настройках lanchat."

LangString FirewallAdding ${LANG_ENGLISH} "Allowing lanchat in Windows Firewall (domain and private networks)"
LangString FirewallAdding ${LANG_RUSSIAN} "Разрешение для lanchat в брандмауэре Windows (доменные и частные сети)"
; $0: what netsh returned (its exit code, or "error" when it did not start).
LangString FirewallFailed ${LANG_ENGLISH} "The firewall rule could not be added (netsh: $0). lanchat's Help → Network shows which ports to open."
LangString FirewallFailed ${LANG_RUSSIAN} "Не удалось добавить правило брандмауэра (netsh: $0). В lanchat «Справка» → «Сеть» показывает, какие порты открыть."
LangString FirewallPerUser ${LANG_ENGLISH} "Installed for this user only, so no firewall rules were added (that needs an installation for all users). If others cannot see you, lanchat's Help → Network shows which ports to open."
LangString FirewallPerUser ${LANG_RUSSIAN} "Установлено только для этого пользователя, поэтому правила брандмауэра не добавлены (для этого нужна установка для всех пользователей). Если вас не видят, в lanchat «Справка» → «Сеть» показывает, какие порты открыть."
LangString FirewallRemoving ${LANG_ENGLISH} "Removing lanchat's firewall rules"
LangString FirewallRemoving ${LANG_RUSSIAN} "Удаление правил брандмауэра для lanchat"

LangString StillRunning ${LANG_ENGLISH} "lanchat is running from $INSTDIR. Quit it (Chat > Quit in its window), then press Retry."
LangString StillRunning ${LANG_RUSSIAN} "lanchat запущен из $INSTDIR. Закройте его (в окне: «Чат» > «Выход»), затем нажмите «Повторить»."

LangString AllUsersNotPossible ${LANG_ENGLISH} "Installing lanchat for all users needs administrator rights."
LangString AllUsersNotPossible ${LANG_RUSSIAN} "Для установки lanchat для всех пользователей нужны права администратора."
LangString UnAllUsersNeedsAdmin ${LANG_ENGLISH} "lanchat was installed for all users: removing it needs administrator rights."
LangString UnAllUsersNeedsAdmin ${LANG_RUSSIAN} "lanchat установлен для всех пользователей: для удаления нужны права администратора."

LangString UnDataTitle ${LANG_ENGLISH} "Your chat history and settings"
LangString UnDataTitle ${LANG_RUSSIAN} "Ваша история переписки и настройки"
LangString UnDataSubtitle ${LANG_ENGLISH} "Keep them, or delete them with lanchat."
LangString UnDataSubtitle ${LANG_RUSSIAN} "Оставить их или удалить вместе с lanchat."
LangString UnDataText ${LANG_ENGLISH} "lanchat keeps your chat history, settings and keys (your identity) in $APPDATA\lanchat. They are kept, so that lanchat installed again carries on where it stopped, unless you tick the box below.$\r$\n$\r$\nFiles you received, in your Downloads folder, are never deleted."
LangString UnDataText ${LANG_RUSSIAN} "lanchat хранит вашу историю переписки, настройки и ключи (вашу личность) в $APPDATA\lanchat. Они остаются, чтобы lanchat после новой установки продолжил с того же места, если только вы не отметите пункт ниже.$\r$\n$\r$\nПолученные файлы в папке «Загрузки» не удаляются никогда."
LangString UnDataCheckbox ${LANG_ENGLISH} "Also delete my chat history and settings"
LangString UnDataCheckbox ${LANG_RUSSIAN} "Также удалить мою историю переписки и настройки"
